"""Portico benchmark: the issue-17 table (today's Portico, the new one, nginx, HAProxy) in one run.

    .venv/bin/python bench/run.py --quick          # about 5 minutes, 2 rounds
    .venv/bin/python bench/run.py                  # full run, 3 rounds, about 30 minutes
    .venv/bin/python bench/run.py --tests idle60k  # 60,000 idle connections through one node

Checks out --baseline-ref (default 81bb63e, main before the fast-path work) into a temporary git
worktree and runs it as `portico@<ref>` beside this checkout, nginx (one worker) and HAProxy
(one thread), interleaved in rounds against one Node.js `ws` echo backend, driven by the Node.js
`ws` load client (client.mjs). Prints the median and spread of each figure, the ratios and the
targets, and writes bench/results/<timestamp>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import nodes as bench_nodes  # bench/nodes.py: the two-roles, workers and 60k rows
import policies as bench_policies  # bench/policies.py (the script's folder is on sys.path)
import storm as bench_storm  # bench/storm.py: the reconnect-storm row
import tracing as bench_tracing  # bench/tracing.py: tracing off against tracing on

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
NODE = shutil.which("node") or "/usr/bin/node"
BASELINE_REF = "81bb63e"  # main before the fast-path work (issue 17): "today" in the table
TARGETS = ("baseline", "portico", "nginx", "haproxy", "pyrelay", "direct")
DEFAULT_TARGETS = ("baseline", "portico", "nginx", "haproxy")
PORTICO_TARGETS = ("baseline", "portico")
TESTS = (
    "rtt",
    "throughput",
    "handshake",
    "msgpolicies",
    "idle",
    "flood",
    "workers",
    "recording_off",
    "tracing",
    "idle60k",
    "storm",
)
FULL_TESTS = ("rtt", "throughput", "handshake", "msgpolicies", "idle", "flood", "workers", "storm")
QUICK_TESTS = ("rtt", "throughput", "handshake", "msgpolicies", "idle", "storm")
CLIENT_SATURATED_PCT = 85.0
OTHER_LOAD_PCT = 15.0  # % of one core used by processes that are not part of the benchmark
# A text message of exactly 64 bytes that the validate-message schema accepts.
JSON_64 = '{"op":"say","n":42,"pad":"' + "a" * 36 + '"}'
SCHEMA = (
    '{"type": "object", "required": ["op", "n"], '
    '"properties": {"op": {"type": "string"}, "n": {"type": "integer"}}}'
)
# Issue 14's per-message rows: API suffix -> (row label, onMessage inbound policy).
MESSAGE_POLICIES = {
    "echo": ("no onMessage policy", ""),
    "msgsize": ("limit-message-size", '<limit-message-size max-bytes="65536"/>'),
    "msgrate": (
        "rate-limit-messages (per connection)",
        '<rate-limit-messages calls="100000000" renewal-period="60"/>',
    ),
    "msgschema": (
        "validate-message (small inline schema)",
        f'<validate-message action="close"><schema>{SCHEMA}</schema></validate-message>',
    ),
}

# The APIs every Portico target serves: echo, guarded, idle and one per onMessage policy.
BENCH_APIS = 3 + sum(1 for _, xml in MESSAGE_POLICIES.values() if xml)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- child processes -----------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the harness dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    """Every process the harness starts; stopped in reverse order, by PID only."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(  # noqa: S603 - our own fixed commands
            args, start_new_session=True, preexec_fn=_die_with_parent, **kwargs
        )
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 5.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()

    def stop_all(self) -> None:
        while self.procs:
            name, proc = self.procs.pop()
            try:
                self.stop(proc)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                log(f"could not stop {name} (pid {proc.pid}): {exc}")


CHILDREN = Children()
atexit.register(CHILDREN.stop_all)


def _sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout:.0f}s")


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo and len(found) < 64:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(needed, soft)
    if hard != resource.RLIM_INFINITY and hard < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


# --- the targets ---------------------------------------------------------------------------------


def ensure_node_modules() -> None:
    if (BENCH / "node_modules" / "ws" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is missing: install Node.js 18+ with npm")
    log("bench/node_modules missing: running npm ci")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)  # noqa: S603


def start_node_backend(port: int) -> subprocess.Popen:
    proc = CHILDREN.start(
        "echo backend",
        [NODE, str(BENCH / "echo_server.mjs"), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        raise RuntimeError(f"echo backend failed to start: {line!r}")
    return proc


def start_python_backend(port: int, env: dict[str, str], root: Path) -> subprocess.Popen:
    proc = CHILDREN.start(
        "echo backend",
        [PYTHON, "manage.py", "echo_backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, "python echo backend")
    return proc


def forget(*procs: subprocess.Popen) -> None:
    """Stop these children (by PID) and drop them from the list stopped at exit."""
    for proc in procs:
        CHILDREN.stop(proc, timeout=30)
    gone = {id(p) for p in procs}
    CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if id(p) not in gone]


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if os.access(p, os.X_OK)),
        None,
    )


NGINX_CONF = """\
# Written by bench/run.py: a minimal WebSocket reverse proxy, one worker process.
worker_processes {workers};
worker_rlimit_nofile {nofile};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
{user}
events {{
    worker_connections {connections};
}}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-client;
    proxy_temp_path {dir}/nginx-proxy;
    fastcgi_temp_path {dir}/nginx-fastcgi;
    uwsgi_temp_path {dir}/nginx-uwsgi;
    scgi_temp_path {dir}/nginx-scgi;
    upstream echo {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://echo;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }}
    }}
}}
"""

HAPROXY_CONF = """\
# Written by bench/run.py: a minimal WebSocket reverse proxy, one process, one thread, no logs.
global
    nbthread 1
    maxconn {maxconn}
defaults
    mode http
    timeout connect 5s
    timeout client 3600s
    timeout server 3600s
    timeout tunnel 3600s
    maxconn {maxconn}
frontend bench
    bind 127.0.0.1:{port}
    default_backend echo
backend echo
    server echo 127.0.0.1:{backend} maxconn {maxconn}
"""


def ensure_nginx() -> str | None:
    found = find_binary("nginx")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("nginx missing: trying apt-get install -y nginx")
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", "nginx"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return find_binary("nginx")
    log("nginx is not installed and could not be installed: nginx is skipped")
    return None


def _wait_children(proc: subprocess.Popen, count: int) -> list[int]:
    deadline = time.monotonic() + 5
    pids = descendants(proc.pid)
    while len(pids) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = descendants(proc.pid)
    return pids


def start_nginx(
    nginx: str, workdir: Path, port: int, backend: int | list[int], nofile: int, *, workers=1
):
    """nginx in front of one echo backend, or several in turn (the storm row: no backend process
    may hold 20,000 descriptors either)."""
    workdir.mkdir(parents=True, exist_ok=True)
    backends = backend if isinstance(backend, list) else [backend]
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workers=workers,
            dir=workdir,
            port=port,
            servers="\n".join(f"        server 127.0.0.1:{b};" for b in backends),
            nofile=nofile,
            # Client and upstream sides each count: one per descriptor.
            connections=max(1024, nofile - 100),
            user="user root;" if os.geteuid() == 0 else "",
        )
    )
    proc = CHILDREN.start(
        "nginx",
        [nginx, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, "nginx")
    return proc, _wait_children(proc, 1 + workers)  # master + its workers


def start_haproxy(haproxy: str, workdir: Path, port: int, backend: int, nofile: int):
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "haproxy.cfg"
    # Two descriptors per proxied connection, and a few for itself.
    conf.write_text(
        HAPROXY_CONF.format(port=port, backend=backend, maxconn=max(1000, (nofile - 200) // 2))
    )
    proc = CHILDREN.start(
        "haproxy",
        [haproxy, "-db", "-f", str(conf)],  # -db: foreground, no master process
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "haproxy.log", "w"),  # noqa: SIM115 - closed with the process
    )
    wait_for_port(port, proc, "haproxy")
    return proc, _wait_children(proc, 1)


def portico_env(workdir: Path, keepalive: float, db: str = "db.sqlite3") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=f"sqlite:///{workdir}/{db}",
        PORTICO_VAR_DIR=str(workdir),
        SECRET_KEY="bench",  # noqa: S106 - a throwaway database
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PORTICO_KEEPALIVE_SECONDS=f"{keepalive:g}",
        PORTICO_SHUTDOWN_GRACE_SECONDS="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_portico/status", timeout=5) as r:  # noqa: S310
        return json.load(r)


def add_apis(
    root: Path,
    env: dict,
    backend_urls: dict[str, str],
    policies: dict[str, str],
    idle_off: tuple[str, ...] = (),
):
    """APIs in the demo's product (so the demo key opens them), through the catalog services.

    Those in idle_off never close an idle connection (the default closes after 600 s without a
    message, sooner than a 60,000-connection test on a busy machine takes to open them all).
    """
    code = (
        "from apis import services\n"
        "from apis.models import Product\n"
        "g = services.ensure_builtin_gateway()\n"
        "p = Product.objects.get(name='starter')\n"
        f"urls = {backend_urls!r}\n"
        f"policies = {policies!r}\n"
        f"idle_off = {list(idle_off)!r}\n"
        "made = [services.create_api(display_name='Bench ' + s, backend_url=u, url_suffix=s,"
        " gateways=[g], policy_xml=policies.get(s, ''),"
        " **({'idle_timeout_seconds': 0} if s in idle_off else {})) for s, u in urls.items()]\n"
        "services.update_product(product=p, apis=[*p.apis.all(), *made])\n"
    )
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def prepare_catalog(root: Path, env: dict, backend: int, *, bench_apis: bool = False) -> dict:
    """migrate + load_demo (+ the benchmark's APIs) into env's database; the demo key and API."""
    manage = [PYTHON, "manage.py"]
    subprocess.run(  # noqa: S603
        [*manage, "migrate", "-v", "0"], cwd=root, env=env, check=True, capture_output=True
    )
    demo = subprocess.run(  # noqa: S603
        [*manage, "load_demo", "--json", "--backend-url", f"ws://127.0.0.1:{backend}/"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    out = demo.stdout
    info = json.loads(out[out.index("{") : out.rindex("}") + 1])
    if bench_apis:
        url = f"ws://127.0.0.1:{backend}/"
        policies = {"guarded": bench_policies.POLICY}
        for suffix, (_, xml) in MESSAGE_POLICIES.items():
            if xml:
                policies[suffix] = (
                    f"<policies><on-message><inbound>{xml}</inbound></on-message></policies>"
                )
        add_apis(root, env, {s: url for s in [*policies, "idle"]}, policies, ("idle",))
    return {"api_suffix": info["api_suffix"], "primary_key": info["primary_key"]}


def launch_portico(
    root: Path, env: dict, port: int, log_path: Path, *, workers: int = 1, apis: int = 1
) -> subprocess.Popen:
    """run_gateway on a prepared database; returns once it serves `apis` APIs."""
    with open(log_path, "w") as log_file:
        proc = CHILDREN.start(
            "portico",
            [PYTHON, "manage.py", "run_gateway", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    proc.port = port
    wait_for_port(port, proc, "portico", timeout=120)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the catalog loads in the background at start-up
        with contextlib.suppress(OSError):
            if status(port).get("apis", 0) >= apis:
                return proc
        time.sleep(0.2)
    raise RuntimeError("portico does not serve the benchmark's APIs: see " + str(log_path))


def start_portico(
    root: Path, env: dict, port: int, backend: int, log_path: Path, *, workers: int = 1
):
    """A fresh database and gateway (the node rows); returns the process and the echo URL."""
    info = prepare_catalog(root, env, backend)
    proc = launch_portico(root, env, port, log_path, workers=workers)
    url = f"ws://127.0.0.1:{port}/{info['api_suffix']}?subscription-key={info['primary_key']}"
    return proc, url


class Target:
    """One thing to measure: a Portico checkout, nginx, HAProxy or the backend directly."""

    def __init__(self, name: str, label: str, kind: str, root: Path | None = None) -> None:
        self.name, self.label, self.kind, self.root = name, label, kind, root
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []
        self.port = 0
        self.info: dict = {}
        self.starts = 0

    def prepare(self, ctx: Context) -> None:
        """Portico: one template database with the demo and the benchmark's APIs."""
        if self.kind != "portico":
            return
        log(f"{self.label}: preparing its catalog ({self.root})")
        env = portico_env(ctx.tmp / self.name, ctx.args.keepalive, "template.sqlite3")
        (ctx.tmp / self.name).mkdir(parents=True, exist_ok=True)
        self.info = prepare_catalog(self.root, env, ctx.backend_port, bench_apis=True)

    def instance_env(self, ctx: Context, tag: str) -> dict:
        """A copy of the template database and a var dir of its own, for one process."""
        workdir = ctx.tmp / self.name
        shutil.copyfile(workdir / "template.sqlite3", workdir / f"db-{tag}.sqlite3")
        var = workdir / f"var-{tag}"
        var.mkdir(exist_ok=True)
        env = portico_env(workdir, ctx.args.keepalive, f"db-{tag}.sqlite3")
        env["PORTICO_VAR_DIR"] = str(var)
        return env

    def start(self, ctx: Context, tag: str) -> None:
        self.starts += 1
        if self.kind == "direct":
            self.proc, self.pids = None, []
            return
        self.port = free_port()
        workdir = ctx.tmp / self.name / tag
        workdir.mkdir(parents=True, exist_ok=True)
        if self.kind == "nginx":
            self.proc, self.pids = start_nginx(
                ctx.nginx, workdir, self.port, ctx.backend_port, ctx.nofile
            )
        elif self.kind == "haproxy":
            self.proc, self.pids = start_haproxy(
                ctx.haproxy, workdir, self.port, ctx.backend_port, ctx.nofile
            )
        elif self.kind == "pyrelay":
            self.proc = CHILDREN.start(
                "pyrelay",
                [
                    sys.executable,
                    str(BENCH / "byte_relay.py"),
                    str(self.port),
                    str(ctx.backend_port),
                ],
                stdout=subprocess.DEVNULL,
                stderr=open(workdir / "pyrelay.log", "w"),  # noqa: SIM115 - closed with the process
            )
            wait_for_port(self.port, self.proc, "pyrelay")
            self.pids = [self.proc.pid]
        else:
            env = self.instance_env(ctx, tag)
            self.proc = launch_portico(
                self.root, env, self.port, workdir / "portico.log", apis=BENCH_APIS
            )
            self.pids = descendants(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            forget(self.proc)
        self.proc, self.pids = None, []

    def url(self, ctx: Context, suffix: str = "echo", extra: str = "") -> str:
        if self.kind == "direct":
            return f"ws://127.0.0.1:{ctx.backend_port}/"
        if self.kind != "portico":
            return f"ws://127.0.0.1:{self.port}/"
        key = self.info["primary_key"]
        return f"ws://127.0.0.1:{self.port}/{suffix}?subscription-key={key}{extra}"


class Context:
    """What every test needs: the arguments, temp dir, echo backend, binaries and fd limit."""

    def __init__(self, args, tmp: Path, nofile: int) -> None:
        self.args, self.tmp, self.nofile = args, tmp, nofile
        self.backend_port = 0
        self.backend_pid = 0
        self.nginx: str | None = None
        self.haproxy: str | None = None


def baseline_checkout(ref: str, tmp: Path) -> tuple[Path, str]:
    """`git worktree add --detach` of ref in the temp dir (removed by remove_checkout)."""
    short = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = tmp / f"baseline-{short}"
    subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return path, short


def remove_checkout(path: Path) -> None:
    with contextlib.suppress(Exception):
        subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],  # noqa: S607
            capture_output=True,
            check=False,
        )
        subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "worktree", "prune"],  # noqa: S607
            capture_output=True,
            check=False,
        )


# --- the load client and the tests ---------------------------------------------------------------


def run_client(config: dict, *, timeout: float) -> dict:
    """Run client.mjs with a config and return its RESULT (bounded by timeout)."""
    proc = CHILDREN.start(
        "client",
        [NODE, str(BENCH / "client.mjs"), json.dumps(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        result = None
        for line in proc.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait()
    finally:
        timer.cancel()
        forget(proc)
    if result is None:
        return {"error": f"client exited with {proc.returncode} and no result (timeout?)"}
    return result


class IdleClient:
    """client.mjs in idle mode: opens `count` connections and holds them until released."""

    def __init__(self, config: dict, name: str = "idle client") -> None:
        self.proc = CHILDREN.start(
            name,
            [NODE, str(BENCH / "client.mjs"), json.dumps({"mode": "idle", **config})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.opened: dict = {}
        self.result: dict = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._got_open = threading.Event()
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("EVENT "):
                self.opened = json.loads(line[6:])
                self._got_open.set()
            elif line.startswith("RESULT "):
                self.result = json.loads(line[7:])
        self._got_open.set()

    def wait_opened(self, timeout: float) -> dict:
        self._got_open.wait(timeout)
        return self.opened

    def release(self, timeout: float = 60) -> dict:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write("close\n")
            self.proc.stdin.flush()
        self._reader.join(timeout)
        forget(self.proc)
        return self.result


def ticks(pids: list[int]) -> int:
    """utime + stime of these processes, in clock ticks (1/100 s)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])
    return total


def machine_busy_ticks() -> int:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(values) - values[3] - (values[4] if len(values) > 4 else 0)


def split_cpu(result: dict, proxy_pids: list[int], backend_pid: int) -> dict:
    """Proxy and backend CPU from the client's per-pid samples (no proxy figures for direct)."""
    by_pid = result.get("cpu_ms_by_pid")
    if not by_pid:
        return result
    seconds = result.get("seconds") or 1.0
    if proxy_pids:
        result["proxy_cpu_ms"] = sum(by_pid.get(str(p), 0.0) for p in proxy_pids)
        result["proxy_cpu_pct"] = result["proxy_cpu_ms"] / 10 / seconds
        user = result.get("user_cpu_ms_by_pid") or {}
        # The proxy's own code; the rest of its CPU is the kernel's reads and writes for it.
        result["proxy_user_cpu_ms"] = sum(user.get(str(p), 0.0) for p in proxy_pids)
    result["backend_cpu_ms"] = by_pid.get(str(backend_pid), 0.0)
    result["backend_cpu_pct"] = result["backend_cpu_ms"] / 10 / seconds
    if result.get("machine_busy_ms") is not None:
        # Whatever else ran on the machine during the window (other users' tests, builds...).
        ours = result.get("proxy_cpu_ms", 0.0) + result["backend_cpu_ms"] + result["client_cpu_ms"]
        result["other_cpu_pct"] = max(0.0, result["machine_busy_ms"] - ours) / 10 / seconds
    return result


def measure_rtt(url, pids, proxy_pids, backend_pid, args, bound, payload=None) -> dict:
    config = {
        "mode": "rtt",
        "url": url,
        "connections": 50,
        "size": 64,
        "binary": False,
        "warmup": args.warmup,
        "duration": args.duration,
        "pids": pids,
        "max_messages": 50_000_000,
    }
    if payload is not None:
        config["payload"] = payload
    rtt = split_cpu(run_client(config, timeout=bound), proxy_pids, backend_pid)
    if rtt.get("messages"):
        if proxy_pids:
            rtt["proxy_cpu_us_per_relayed_msg"] = rtt["proxy_cpu_ms"] * 1e3 / (2 * rtt["messages"])
            rtt["proxy_user_us_per_relayed_msg"] = (
                rtt["proxy_user_cpu_ms"] * 1e3 / (2 * rtt["messages"])
            )
        rtt["backend_cpu_us_per_msg"] = rtt["backend_cpu_ms"] * 1000 / rtt["messages"]
    return rtt


def measure_throughput(url, pids, proxy_pids, backend_pid, args, bound) -> dict:
    bulk = run_client(
        {
            "mode": "rtt",
            "url": url,
            "connections": 4,
            "size": 65536,
            "binary": True,
            "warmup": args.warmup,
            "duration": args.duration,
            "pids": pids,
            "max_messages": 5_000_000,
        },
        timeout=bound,
    )
    bulk = split_cpu(bulk, proxy_pids, backend_pid)
    if bulk.get("messages") and proxy_pids:
        bulk["proxy_cpu_us_per_relayed_msg"] = bulk["proxy_cpu_ms"] * 1000 / (2 * bulk["messages"])
    return bulk


def measure_handshakes(url, pids, proxy_pids, backend_pid, args, bound) -> dict:
    hs = run_client(
        {
            "mode": "handshake",
            "url": url,
            "concurrency": 8,
            "warmup": min(args.warmup, 1.0),
            "duration": args.duration,
            "pids": pids,
            "max_handshakes": 20_000,
        },
        timeout=bound,
    )
    hs = split_cpu(hs, proxy_pids, backend_pid)
    if hs.get("handshakes") and proxy_pids:
        hs["proxy_cpu_ms_per_handshake"] = hs["proxy_cpu_ms"] / hs["handshakes"]
    return hs


def round_tests(ctx: Context, target: Target, test: str) -> dict[str, dict]:
    """One round of one test on a running target: {result key: figures}."""
    args = ctx.args
    bound = args.warmup + args.duration + 60
    pids, proxy = [*target.pids, ctx.backend_pid], target.pids
    url = target.url(ctx)
    if test == "rtt":
        log(f"{target.label}: round trips, 50 connections x 64 B text, {args.duration:g}s")
        return {"rtt": measure_rtt(url, pids, proxy, ctx.backend_pid, args, bound)}
    if test == "throughput":
        log(f"{target.label}: throughput, 4 connections x 64 KiB binary, {args.duration:g}s")
        return {"throughput": measure_throughput(url, pids, proxy, ctx.backend_pid, args, bound)}
    if test == "handshake":
        log(f"{target.label}: handshakes, 8 parallel connect+close loops, {args.duration:g}s")
        out = {"handshake": measure_handshakes(url, pids, proxy, ctx.backend_pid, args, bound)}
        if target.kind == "portico":
            log(f"{target.label}: handshakes with {bench_policies.LABEL}")
            guarded = target.url(ctx, "guarded", f"&access_token={bench_policies.token()}")
            out["handshake_policies"] = measure_handshakes(
                guarded, pids, proxy, ctx.backend_pid, args, bound
            )
        return out
    if test == "msgpolicies" and target.kind == "portico":
        if args.quick and target.name == "baseline":
            return {}  # quick runs measure the policies' cost on the new Portico only
        out = {}
        for suffix, (label, _) in MESSAGE_POLICIES.items():
            log(f"{target.label}: round trips, 64 B JSON, {label}")
            out[f"msg_{suffix}"] = measure_rtt(
                target.url(ctx, suffix), pids, proxy, ctx.backend_pid, args, bound, JSON_64
            )
        return out
    return {}


def idle_test(ctx: Context, target: Target, tag: str) -> dict:
    """A fresh proxy process: RSS growth per idle connection, then its CPU while they idle."""
    args = ctx.args
    count, window = args.idle_connections, args.idle_seconds
    target.start(ctx, tag)
    try:
        url = target.url(ctx, "idle")  # Portico: an API whose idle timeout is off
        # First handshakes import and build what every later one reuses: not per-connection.
        warm = IdleClient({"url": url, "count": 20, "concurrency": 4, "hold_seconds": 60})
        warm.wait_opened(60)
        warm.release()
        time.sleep(1.0)
        before = rss_kib(target.pids)
        log(f"{target.label}: {count} idle connections in a fresh process, then {window:g}s idle")
        client = IdleClient(
            {
                "url": url,
                "count": count,
                "concurrency": 32,
                "hold_seconds": 600 + window,
                "max_errors": 200,
                "retry_failed": True,
            }
        )
        try:
            opened = client.wait_opened(300)
            time.sleep(args.settle)
            after = rss_kib(target.pids)
            cpu0, busy0, t0 = ticks(target.pids), machine_busy_ticks(), time.monotonic()
            time.sleep(window)
            cpu1, busy1, t1 = ticks(target.pids), machine_busy_ticks(), time.monotonic()
            fds = max((_open_files(p) for p in target.pids), default=0)
        finally:
            result = client.release()
    finally:
        target.stop()
    n = opened.get("opened") or 0
    if not n:
        return {"error": "no idle connections opened", "client": opened}
    seconds = t1 - t0
    return {
        "connections": n,
        "open_errors": opened.get("errors", 0),
        "error_samples": opened.get("error_samples", []),
        "open_seconds": opened.get("seconds"),
        "still_open_at_end": result.get("still_open"),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": (after - before) / n,
        "idle_seconds": seconds,
        "idle_cpu_pct": (cpu1 - cpu0) / seconds,  # ticks are 10 ms: ticks/s = % of a core
        "machine_busy_pct": (busy1 - busy0) / seconds,
        "other_cpu_pct": max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / seconds,
        "max_open_files": fds,
        "keepalive_s": args.keepalive if target.kind == "portico" else None,
    }


def _open_files(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(list(Path(f"/proc/{pid}/fd").iterdir()))
    return 0


# --- report --------------------------------------------------------------------------------------


class Row:
    """A figure: where it is in each round's results, its format and its target (if any)."""

    def __init__(
        self,
        label,
        test,
        field,
        fmt,
        *,
        vs_nginx=None,
        at_most=None,
        at_least=None,
        nginx_test=None,
    ):
        self.label, self.test, self.field, self.fmt = label, test, field, fmt
        self.vs_nginx, self.at_most, self.at_least = vs_nginx, at_most, at_least
        # nginx has no policies: the guarded handshake is compared with nginx's plain one
        self.nginx_test = nginx_test or test


def values(results: dict, target: str, test: str, field: str) -> list[float]:
    rounds = (results.get(target) or {}).get(test) or []
    return [r[field] for r in rounds if isinstance(r.get(field), int | float)]


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def ratio(results: dict, row: Row, num: str, den: str) -> list[float]:
    """Per-round ratios when both ran every round (paired in time), else the medians' ratio."""
    a = values(results, num, row.test, row.field)
    b = values(results, den, row.nginx_test if den == "nginx" else row.test, row.field)
    if a and len(a) == len(b):
        return [x / y for x, y in zip(a, b, strict=True) if y]
    if a and b and median(b):
        return [median(a) / median(b)]
    return []


def cell(xs: list[float], fmt: str) -> str:
    if not xs:
        return "-"
    text = fmt.format(median(xs))
    lo, hi = fmt.format(min(xs)), fmt.format(max(xs))
    return text if lo == hi else f"{text} [{lo}-{hi}]"


def judge(row: Row, results: dict) -> tuple[str, str]:
    """(target text, PASS/MISS/n/a) for the new Portico; never asserts."""
    new = median(values(results, "portico", row.test, row.field))
    if row.vs_nginx is not None:
        text = f"<= {row.vs_nginx:g}x nginx"
        if not values(results, "nginx", row.nginx_test, row.field):
            return text + " (ratio unknown: nginx not measured)", "n/a"
        r = median(ratio(results, row, "portico", "nginx"))
        if r is None:
            return text, "n/a"
        return text, "PASS" if r <= row.vs_nginx else "MISS"
    if row.at_most is not None:
        return f"<= {row.at_most:g}", (
            "n/a" if new is None else "PASS" if new <= row.at_most else "MISS"
        )
    if row.at_least is not None:
        if new is None:
            return f">= {row.at_least:,.0f} (--tests idle60k)", "n/a"
        return f">= {row.at_least:,.0f}", "PASS" if new >= row.at_least else "MISS"
    return "", ""


def main_rows(args) -> list[Row]:
    n, k, w = args.idle_connections, args.keepalive, args.idle60k_workers
    return [
        Row(
            "proxy CPU us / relayed 64 B msg",
            "rtt",
            "proxy_cpu_us_per_relayed_msg",
            "{:.1f}",
            vs_nginx=1.6,
        ),
        Row(
            "proxy CPU us / relayed 64 KiB msg",
            "throughput",
            "proxy_cpu_us_per_relayed_msg",
            "{:.0f}",
            vs_nginx=1.5,
        ),
        Row(
            "CPU ms / handshake, key only",
            "handshake",
            "proxy_cpu_ms_per_handshake",
            "{:.2f}",
            at_most=0.8,
        ),
        Row(
            "CPU ms / handshake, key+jwt+rate-limit",
            "handshake_policies",
            "proxy_cpu_ms_per_handshake",
            "{:.2f}",
            at_most=1.2,
        ),
        Row("KiB / idle proxied connection", "idle", "kib_per_connection", "{:.1f}", at_most=16),
        Row(
            f"idle CPU % of a core, {n:,} conn, ka {k:g}s",
            "idle",
            "idle_cpu_pct",
            "{:.1f}",
            at_most=3,
        ),
        Row(
            f"idle connections held by one node ({w} workers)",
            "idle60k",
            "held",
            "{:,.0f}",
            at_least=60_000,
        ),
        Row("p99 round trip ms, 50 conn x 64 B", "rtt", "p99_ms", "{:.2f}", vs_nginx=1.5),
    ]


def issue31_rows(args) -> list[Row]:
    """Issue 31's targets, judged against nginx in the same run (the idle CPU target is for
    9,000 connections: `--idle-connections 9000`)."""
    n, k = args.idle_connections, args.keepalive
    cpu_ms = "proxy_cpu_ms_per_handshake"
    return [
        Row(
            "proxy CPU us / relayed 64 B msg",
            "rtt",
            "proxy_cpu_us_per_relayed_msg",
            "{:.1f}",
            vs_nginx=1.2,
        ),
        Row("CPU ms / handshake, key only", "handshake", cpu_ms, "{:.2f}", vs_nginx=4),
        Row(
            "CPU ms / handshake, key+jwt+rate (nginx: plain)",
            "handshake_policies",
            cpu_ms,
            "{:.2f}",
            vs_nginx=5.5,
            nginx_test="handshake",
        ),
        # Item 4: a busy gateway must not refuse legitimate handshakes (503s were seen with Redis
        # counters under load); every failed handshake counts, whatever its status.
        Row("failed handshakes, key only", "handshake", "errors", "{:.0f}", at_most=0),
        Row(
            "failed handshakes, key+jwt+rate-limit",
            "handshake_policies",
            "errors",
            "{:.0f}",
            at_most=0,
        ),
        Row("KiB / idle proxied connection", "idle", "kib_per_connection", "{:.1f}", at_most=12),
        Row(
            f"idle CPU % of a core, {n:,} conn, ka {k:g}s",
            "idle",
            "idle_cpu_pct",
            "{:.1f}",
            at_most=1.5,
        ),
        Row("reconnect storm: failed reconnects", "storm", "errors", "{:.0f}", at_most=0),
        Row("reconnect storm: seconds until all back", "storm", "seconds", "{:.1f}"),
        Row("reconnect storm: peak MiB, proxy processes", "storm", "peak_rss_mib", "{:.0f}"),
    ]


OTHER_ROWS = [
    Row("round trips/s (50 conn, 64 B)", "rtt", "round_trips_per_s", "{:,.0f}"),
    Row("p50 round trip ms (50 conn)", "rtt", "p50_ms", "{:.3f}"),
    Row("proxy CPU % (50 conn, 64 B)", "rtt", "proxy_cpu_pct", "{:.0f}"),
    Row("of which user us / relayed 64 B msg", "rtt", "proxy_user_us_per_relayed_msg", "{:.1f}"),
    Row("backend CPU us / msg (64 B)", "rtt", "backend_cpu_us_per_msg", "{:.1f}"),
    Row("client CPU % (64 B)", "rtt", "client_cpu_pct", "{:.0f}"),
    Row("other processes CPU % (64 B)", "rtt", "other_cpu_pct", "{:.0f}"),
    Row("MB/s echoed (4 conn, 64 KiB)", "throughput", "mb_per_s", "{:,.1f}"),
    Row("client CPU % (64 KiB)", "throughput", "client_cpu_pct", "{:.0f}"),
    Row("handshakes/s (8 loops, key only)", "handshake", "handshakes_per_s", "{:,.0f}"),
    Row("handshake p50 ms (key only)", "handshake", "p50_ms", "{:.2f}"),
    Row("handshake p50 ms (key+jwt+rate-limit)", "handshake_policies", "p50_ms", "{:.2f}"),
    Row("client CPU % (handshakes)", "handshake", "client_cpu_pct", "{:.0f}"),
    Row("other processes CPU % (handshakes)", "handshake", "other_cpu_pct", "{:.0f}"),
    Row("idle test: connections held", "idle", "connections", "{:,.0f}"),
    Row("reconnect storm: connections back", "storm", "back", "{:,.0f}"),
    Row("reconnect storm: seconds until all back", "storm", "seconds", "{:.1f}"),
    Row("reconnect storm: peak MiB, proxy processes", "storm", "peak_rss_mib", "{:.0f}"),
    Row("reconnect storm: proxy CPU s until all back", "storm", "cpu_s", "{:.1f}"),
    Row("reconnect storm: proxy CPU ms per reconnect", "storm", "cpu_ms_per_back", "{:.2f}"),
    Row("reconnect storm: proxy s runnable, no CPU free", "storm", "runq_s", "{:.1f}"),
    Row("reconnect storm: client CPU s until all back", "storm", "client_cpu_s", "{:.1f}"),
    Row("reconnect storm: client s runnable, no CPU free", "storm", "client_runq_s", "{:.1f}"),
    Row("reconnect storm: load average at the storm", "storm", "load1", "{:.1f}"),
    Row("idle test: other processes CPU %", "idle", "other_cpu_pct", "{:.0f}"),
    Row("60k: connections the clients opened", "idle60k", "opened", "{:,.0f}"),
    Row("60k: KiB / connection (all workers)", "idle60k", "kib_per_connection", "{:.1f}"),
    Row("60k: idle CPU % of a core (all workers)", "idle60k", "idle_cpu_pct", "{:.1f}"),
    Row("60k: most connections on one worker", "idle60k", "max_worker_connections", "{:,.0f}"),
    Row("60k: most open files in one worker", "idle60k", "max_open_files_per_process", "{:,.0f}"),
    Row("60k: seconds to open them all", "idle60k", "open_seconds", "{:.0f}"),
    Row("node handshake p50 ms, portal idle", "nodes_flood", "quiet_p50_ms", "{:.2f}"),
    Row("node handshake p99 ms, portal idle", "nodes_flood", "quiet_p99_ms", "{:.2f}"),
    Row("node handshake p50 ms, login flood", "nodes_flood", "flood_p50_ms", "{:.2f}"),
    Row("node handshake p99 ms, login flood", "nodes_flood", "flood_p99_ms", "{:.2f}"),
    Row("  wrong-password logins/s on portal", "nodes_flood", "flood_logins_per_s", "{:.1f}"),
    Row("round trips/s, --workers 1", "nodes_workers", "w1_round_trips_per_s", "{:,.0f}"),
    Row("round trips/s, --workers 2", "nodes_workers", "w2_round_trips_per_s", "{:,.0f}"),
    Row("CPU us / relayed msg, --workers 1", "nodes_workers", "w1_cpu_us_per_msg", "{:.1f}"),
    Row("CPU us / relayed msg, --workers 2", "nodes_workers", "w2_cpu_us_per_msg", "{:.1f}"),
    Row(
        "CPU us / relayed msg, recording off",
        "rtt_recording_off",
        "proxy_cpu_us_per_relayed_msg",
        "{:.1f}",
    ),
]


def render(header: list[str], rows: list[list[str]], left: set[int]) -> str:
    lines = [header, *rows]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for i, row in enumerate(lines):
        out.append(
            "  ".join(
                c.ljust(widths[j]) if j in left else c.rjust(widths[j]) for j, c in enumerate(row)
            ).rstrip()
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def ratio_cell(xs: list[float]) -> str:
    if not xs:
        return "-"
    text, lo, hi = f"{median(xs):.2f}x", f"{min(xs):.2f}", f"{max(xs):.2f}"
    return text if lo == hi else f"{text} [{lo}-{hi}]"


def figure_table(results: dict, labels: dict[str, str], rows: list[Row], judged: bool) -> str:
    names = [t for t in TARGETS if t in labels]
    header = ["figure", *(labels[t] for t in names), "new/nginx", "new/base"]
    floor = "pyrelay" in labels  # the Python floor: what any Python relay costs here
    if floor:
        header.append("new/byte relay")
    if judged:
        header += ["target", "verdict"]
    lines = []
    for row in rows:
        cells = [row.label]
        cells += [cell(values(results, t, row.test, row.field), row.fmt) for t in names]
        if not judged and not any(c != "-" for c in cells[1:]):
            continue  # a test that did not run (the issue's rows are always printed)
        cells.append(ratio_cell(ratio(results, row, "portico", "nginx")))
        cells.append(ratio_cell(ratio(results, row, "portico", "baseline")))
        if floor:
            cells.append(ratio_cell(ratio(results, row, "portico", "pyrelay")))
        if judged:
            cells += list(judge(row, results))
        lines.append(cells)
    left = {0, len(header) - 2, len(header) - 1} if judged else {0}
    return render(header, lines, left)


def message_table(results: dict, labels: dict[str, str]) -> str:
    names = [t for t in PORTICO_TARGETS if t in labels and (results.get(t) or {}).get("msg_echo")]
    header = ["onMessage policy (64 B JSON round trips)"]
    for t in names:
        header += [f"{labels[t]} us/msg", "vs none"]
    lines = []
    for suffix, (label, _) in MESSAGE_POLICIES.items():
        cells = [label]
        for t in names:
            row = Row(label, f"msg_{suffix}", "proxy_cpu_us_per_relayed_msg", "{:.1f}")
            xs = values(results, t, row.test, row.field)
            base = values(results, t, "msg_echo", row.field)
            cells.append(cell(xs, row.fmt))
            paired = [x / y for x, y in zip(xs, base, strict=False) if y]
            cells.append(ratio_cell(paired) if suffix != "echo" else "")
        lines.append(cells)
    if not any(c not in ("-", "") for line in lines for c in line[1:]):
        return ""
    return render(header, lines, {0})


def warnings(results: dict, labels: dict[str, str]) -> list[str]:
    notes, others = [], []
    for target, tests in results.items():
        for test, rounds in tests.items():
            for i, r in enumerate(rounds):
                where = f"{labels.get(target, target)}/{test}" + (
                    f" round {i + 1}" if len(rounds) > 1 else ""
                )
                if r.get("error"):
                    notes.append(f"{where}: ERROR {r['error']}")
                if r.get("open_timed_out"):
                    notes.append(
                        f"{where}: {r['open_timed_out']} client(s) were still opening when time ran"
                        " out: the idle CPU includes their handshakes"
                    )
                if (r.get("client_cpu_pct") or 0) > CLIENT_SATURATED_PCT:
                    notes.append(
                        f"{where}: load client at {r['client_cpu_pct']:.0f}% of a core: it may "
                        "limit throughput (CPU-per-message figures still hold)"
                    )
                if r.get("other_cpu_pct") is not None:
                    others.append(r["other_cpu_pct"])
                failed = r.get("failures") or r.get("errors") or r.get("open_errors")
                if isinstance(failed, int) and failed:
                    notes.append(
                        f"{where}: {failed} failed connections {r.get('error_samples', '')}"
                    )
    busy = [x for x in others if x > OTHER_LOAD_PCT]
    if busy:
        notes.append(
            f"other processes used more than {OTHER_LOAD_PCT:g}% of a core (of {os.cpu_count()}) "
            f"in {len(busy)} of {len(others)} measurements (up to {max(busy):.0f}%): the machine "
            "was shared, figures are disturbed; compare only within this run"
        )
    return notes


def versions(ctx: Context) -> dict:
    info = {"python": platform.python_version(), "machine_cpus": os.cpu_count()}
    with contextlib.suppress(Exception):
        info["node"] = subprocess.run(
            [NODE, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    with contextlib.suppress(Exception):
        ws = json.loads((BENCH / "node_modules" / "ws" / "package.json").read_text())
        info["node_ws"] = ws["version"]
    for name, binary, flag in (("nginx", ctx.nginx, "-v"), ("haproxy", ctx.haproxy, "-v")):
        if binary:
            with contextlib.suppress(Exception):
                done = subprocess.run([binary, flag], capture_output=True, text=True, check=False)
                info[name] = (done.stdout + done.stderr).strip().splitlines()[0]
    from importlib.metadata import version

    for module in ("uvicorn", "websockets", "uvloop", "httptools", "django", "channels"):
        with contextlib.suppress(Exception):
            info[module] = version(module)
    return info


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 4-5 minute version")
    parser.add_argument("--duration", type=float, help="measured seconds per test (10; quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per test (2; quick 1)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; quick 2)")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_TARGETS),
        help="comma list of: " + ",".join(TARGETS) + " (default: all but pyrelay and direct)",
    )
    parser.add_argument(
        "--tests",
        help="comma list of: "
        + ",".join(TESTS)
        + f" (default {','.join(FULL_TESTS)}; quick {','.join(QUICK_TESTS)})",
    )
    parser.add_argument(
        "--baseline-ref",
        default=BASELINE_REF,
        help=f"git ref run as portico@<ref>, today's figures (default {BASELINE_REF})",
    )
    parser.add_argument(
        "--portico-root",
        type=Path,
        default=ROOT,
        help="checkout whose manage.py runs as the new Portico (default: this one)",
    )
    parser.add_argument(
        "--idle-connections", type=int, help="idle test size, one process (9000; quick 1000)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, help="idle CPU window after they settle (60; quick 15)"
    )
    parser.add_argument("--idle-rounds", type=int, default=1, help="idle tests per target (1)")
    parser.add_argument(
        "--storm-connections",
        type=int,
        help="reconnect storm size (18000; quick 1000): two proxy workers hold two descriptors"
        " per connection each, and 20,000 would leave no descriptor to spare",
    )
    parser.add_argument(
        "--storm-workers",
        type=int,
        default=2,
        help="proxy workers in the storm row, Portico's and nginx's (2; 20,000 connections need 3)",
    )
    parser.add_argument(
        "--idle60k-connections", type=int, default=60_000, help="size of the idle60k test"
    )
    parser.add_argument(
        "--idle60k-workers", type=int, default=8, help="workers for idle60k (default 8; >= 7)"
    )
    parser.add_argument(
        "--keepalive",
        type=float,
        default=30.0,
        help="PORTICO_KEEPALIVE_SECONDS for Portico (default 30, the product default; 0 = off)",
    )
    parser.add_argument(
        "--backend",
        choices=("node", "python"),
        default="node",
        help="echo backend: Node.js ws (default) or Portico's own websockets echo backend",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis for the multi-worker rows (default $REDIS_URL; they are skipped without)",
    )
    parser.add_argument("--label", default="", help="free text stored in the results JSON")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, db)")
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    args.rounds = args.rounds or (2 if args.quick else 3)
    if args.idle_connections is None:
        # 9,000 proxied connections = 18,000 descriptors, under the 20,000 one process may hold
        # here; nginx's one worker starts dropping connections above ~9,300 with that limit.
        args.idle_connections = 1000 if args.quick else 9000
    args.idle_seconds = args.idle_seconds or (15.0 if args.quick else 60.0)
    args.settle = 2.0 if args.quick else 5.0
    if args.storm_connections is None:
        args.storm_connections = 1000 if args.quick else 18_000
    args.only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(args.only) - set(TARGETS)
    if unknown:
        parser.error(f"--only: unknown target(s) {', '.join(sorted(unknown))}")
    tests = args.tests or ",".join(QUICK_TESTS if args.quick else FULL_TESTS)
    args.tests = [t.strip() for t in tests.split(",") if t.strip()]
    unknown = set(args.tests) - set(TESTS)
    if unknown:
        parser.error(f"--tests: unknown test(s) {', '.join(sorted(unknown))}")
    return args


def make_targets(ctx: Context, checkouts: list[Path]) -> list[Target]:
    args, targets = ctx.args, []
    for name in TARGETS:
        if name not in args.only:
            continue
        if name == "baseline":
            if not args.baseline_ref:
                continue
            try:
                path, short = baseline_checkout(args.baseline_ref, ctx.tmp)
            except (OSError, subprocess.CalledProcessError) as exc:
                detail = getattr(exc, "stderr", "") or exc
                log(f"--baseline-ref {args.baseline_ref}: no checkout ({detail}): skipped")
                continue
            checkouts.append(path)
            targets.append(Target(name, f"portico@{short}", "portico", path))
        elif name == "portico":
            targets.append(Target(name, "portico (new)", "portico", args.portico_root))
        elif name == "nginx":
            ctx.nginx = ensure_nginx()
            if ctx.nginx:
                targets.append(Target(name, "nginx", "nginx"))
        elif name == "haproxy":
            ctx.haproxy = find_binary("haproxy")
            if ctx.haproxy:
                targets.append(Target(name, "HAProxy", "haproxy"))
            else:
                log("haproxy is not installed: HAProxy is skipped")
        elif name == "pyrelay":
            targets.append(Target(name, "uvloop byte relay", "pyrelay"))
        else:
            targets.append(Target(name, "direct", "direct"))
    return targets


def run_all(ctx: Context, targets: list[Target], results: dict) -> None:
    args = ctx.args
    here = sys.modules[__name__]
    for t in targets:
        results[t.name] = {}
    # Both checkouts build their catalogs at once (mostly Django start-up time).
    preparing = [threading.Thread(target=t.prepare, args=(ctx,)) for t in targets]
    for thread in preparing:
        thread.start()
    for thread in preparing:
        thread.join()
    if any(t.kind == "portico" and not t.info for t in targets):
        raise RuntimeError("a Portico checkout could not build its catalog (see above)")

    def add(target: Target, key: str, result: dict) -> None:
        results[target.name].setdefault(key, []).append(result)

    in_rounds = [t for t in ("rtt", "throughput", "handshake", "msgpolicies") if t in args.tests]
    if in_rounds:
        for t in targets:
            t.start(ctx, "rounds")
        try:
            for number in range(1, args.rounds + 1):
                log(f"round {number} of {args.rounds}")
                for test in in_rounds:
                    for t in targets:
                        for key, result in round_tests(ctx, t, test).items():
                            add(t, key, result)
        finally:
            for t in targets:
                t.stop()
    if "idle" in args.tests and args.idle_connections > 0:
        for number in range(args.idle_rounds):
            for t in targets:
                if t.kind != "direct":
                    add(t, "idle", idle_test(ctx, t, f"idle{number}"))
    porticos = [t for t in targets if t.kind == "portico"]
    if "storm" in args.tests:
        # Both Porticos (today's, when --baseline-ref names one that has --workers) and nginx.
        stormed = [t for t in targets if t.kind in ("portico", "nginx")]
        if not args.redis_url:
            log("storm: skipped: a two-worker node needs --redis-url / REDIS_URL")
        else:
            for index, t in enumerate(stormed):
                try:
                    add(t, "storm", bench_storm.storm(here, ctx, t, index))
                except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                    log(f"{t.label}: storm failed: {exc}")
    new = next((t for t in porticos if t.name == "portico"), None)
    if new is not None and "flood" in args.tests:
        env = portico_env(ctx.tmp / "flood", args.keepalive)
        (ctx.tmp / "flood").mkdir(exist_ok=True)
        port = free_port()
        proc, url = start_portico(new.root, env, port, ctx.backend_port, ctx.tmp / "flood.log")
        try:
            pids = descendants(proc.pid)
            add(
                new,
                "nodes_flood",
                bench_nodes.flood(here, args, new.root, env, url, pids, ctx.backend_pid, ctx.tmp),
            )
        finally:
            forget(proc)
    if new is not None and "recording_off" in args.tests:
        env = {**new.instance_env(ctx, "off"), "PORTICO_TELEMETRY_ENABLED": "0"}
        port = free_port()
        proc = launch_portico(new.root, env, port, ctx.tmp / "recording-off.log")
        try:
            pids = descendants(proc.pid)
            log("portico (recording off): round trips, 50 connections x 64 B text")
            url = f"ws://127.0.0.1:{port}/echo?subscription-key={new.info['primary_key']}"
            bound = args.warmup + args.duration + 60
            add(
                new,
                "rtt_recording_off",
                measure_rtt(url, [*pids, ctx.backend_pid], pids, ctx.backend_pid, args, bound),
            )
        finally:
            forget(proc)
    if new is not None and "tracing" in args.tests:
        bench_tracing.tracing_rounds(here, ctx, new, add)
    multi = [t for t in ("workers", "idle60k") if t in args.tests]
    if multi and not args.redis_url:
        log(f"{', '.join(multi)}: skipped: more than one worker needs --redis-url / REDIS_URL")
        return
    if new is not None and "workers" in args.tests:
        env = {**portico_env(ctx.tmp, args.keepalive), "REDIS_URL": args.redis_url}
        add(
            new,
            "nodes_workers",
            bench_nodes.workers(
                here, args, new.root, env, ctx.backend_port, ctx.backend_pid, ctx.tmp
            ),
        )
    if "idle60k" in args.tests:
        for index, t in enumerate(porticos):
            add(t, "idle60k", bench_nodes.idle60k(here, ctx, t, index))


def report(results: dict, labels: dict[str, str], args, meta: dict) -> str:
    out = [
        f"Portico benchmark: {args.rounds} interleaved round(s), {args.duration:g}s per test after "
        f"{args.warmup:g}s warm-up; median [min-max] over rounds; new/nginx and new/base are "
        "per-round ratios. CPU = utime+stime of the proxy's processes; a round trip = 2 relayed "
        f"messages. Load client: Node.js ws; backend: {meta['backend']}; Portico keep-alive "
        f"{args.keepalive:g}s; idle test: {args.idle_connections:,} connections in a fresh "
        f"process, CPU over {args.idle_seconds:g}s.",
        "",
        "Issue 17 targets (verdicts judge the new Portico):",
        figure_table(results, labels, main_rows(args), judged=True),
        "",
        "Issue 31 targets (same-run ratios; the 100,000-connection row is bench/hundred_k.py):",
        figure_table(results, labels, issue31_rows(args), judged=True),
        "",
        "Other figures:",
        figure_table(results, labels, OTHER_ROWS, judged=False),
    ]
    if (results.get("portico") or {}).get("tracing_ratio"):
        out += [
            "",
            "Issue 28: what tracing costs (ratios to tracing off within each round):",
            figure_table(results, labels, bench_tracing.rows(Row), judged=True),
        ]
    msg = message_table(results, labels)
    if msg:
        out += [
            "",
            "Issue 14: proxy CPU per relayed message with onMessage policies (size and "
            "per-connection rate limits stay tunnelled, validate-message is relayed framed: "
            "PORTICO_RELAY_MODE=framed in the environment compares the policies alone):",
            msg,
        ]
    notes = warnings(results, labels)
    if notes:
        out += [""] + [f"note: {n}" for n in notes]
    if "nginx" not in labels:
        out.append("note: nginx was not measured: every ratio to nginx is unknown")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    # The idle test holds ~2 descriptors per connection in the proxy (this machine's hard
    # limit is 20,000 per process); children inherit the raised soft limit.
    nofile = raise_fd_limit(2 * args.idle_connections + 1000)
    ensure_node_modules()
    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    ctx = Context(args, tmp, nofile)
    started = datetime.now(UTC)
    clock = time.monotonic()
    results: dict = {}
    checkouts: list[Path] = []
    labels: dict[str, str] = {}
    meta: dict = {
        "started": started.isoformat(),
        "label": args.label,
        "argv": sys.argv[1:] if argv is None else argv,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "tests": args.tests,
        "idle_connections": args.idle_connections,
        "idle_seconds": args.idle_seconds,
        "portico_keepalive_s": args.keepalive,
        "portico_root": str(args.portico_root),
        "baseline_ref": args.baseline_ref,
        "backend": "node ws echo (1 process)"
        if args.backend == "node"
        else "python websockets echo (gateway/backend/echo.py)",
        "load_client": "node ws client (client.mjs)",
        "relayed_message_rule": "one round trip = 2 relayed messages (up + down)",
        "fd_limit": nofile,
    }
    try:
        targets = make_targets(ctx, checkouts)
        labels.update({t.name: t.label for t in targets})
        meta["targets"] = labels
        meta["versions"] = versions(ctx)
        log(
            f"targets: {', '.join(labels.values())}; tests: {', '.join(args.tests)}; "
            f"{args.rounds} rounds; fd limit {nofile}; temp dir {tmp}"
        )
        ctx.backend_port = free_port()
        if args.backend == "node":
            backend = start_node_backend(ctx.backend_port)
        else:
            env = portico_env(tmp, args.keepalive)
            backend = start_python_backend(ctx.backend_port, env, args.portico_root)
        ctx.backend_pid = backend.pid
        run_all(ctx, targets, results)
    finally:
        CHILDREN.stop_all()
        for path in checkouts:
            remove_checkout(path)
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    meta["wall_seconds"] = round(time.monotonic() - clock)
    print()
    print(report(results, labels, args, meta))
    print(f"(took {meta['wall_seconds'] // 60}m{meta['wall_seconds'] % 60:02d}s)")
    if not args.no_save:
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        path = out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
        verdicts = {
            row.label: dict(zip(("target", "verdict"), judge(row, results), strict=True))
            for row in main_rows(args)
        }
        payload = {"meta": meta, "results": results, "verdicts": verdicts}
        path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        CHILDREN.stop_all()
        sys.exit(130)
