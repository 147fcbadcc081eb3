"""Portico benchmark: direct vs nginx vs Portico on loopback, in one command.

    .venv/bin/python bench/run.py            # full run (about 4 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run (about 1 minute)

Starts a Node.js `ws` echo backend, nginx (one worker) and Portico (`manage.py run_gateway`, one
process) on free 127.0.0.1 ports, drives each with the Node.js `ws` load client (client.mjs),
prints a table and writes bench/results/<timestamp>.json. See bench/README.md.
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
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import nodes as bench_nodes  # bench/nodes.py: the two-roles and multi-worker rows
import policies as bench_policies  # bench/policies.py (the script's folder is on sys.path)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
TARGETS = ("direct", "nginx", "portico")
TESTS = ("rtt", "throughput", "handshake", "idle", "flood", "workers")

# Targets from the performance brief, and the prototype's figures on this machine.
REFERENCE = {
    "nginx_cpu_us_per_msg": 15.0,
    "bare_relay_cpu_us_per_msg": 58.0,
    "nginx_cpu_ms_per_handshake": 0.28,
    "bare_relay_cpu_ms_per_handshake": 1.9,
    "nginx_kib_per_idle": 17.7,
    "bare_relay_kib_per_idle": 33.6,
}
MAX_CPU_RATIO = 4.0
MAX_HANDSHAKE_MS = 2.5
MAX_IDLE_KIB = 40.0
MAX_P99_RATIO = 2.0
CLIENT_SATURATED_PCT = 85.0


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


# --- the three targets ---------------------------------------------------------------------------


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


NGINX_CONF = """\
# Written by bench/run.py: a minimal WebSocket reverse proxy, one worker process.
worker_processes 1;
worker_rlimit_nofile {nofile};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{
    worker_connections {connections};
}}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-client;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://127.0.0.1:{backend};
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


def ensure_nginx() -> str | None:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
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
            return shutil.which("nginx") or "/usr/sbin/nginx"
    log("nginx is not installed and could not be installed: nginx is skipped")
    return None


def start_nginx(nginx: str, tmp: Path, port: int, backend: int, nofile: int) -> list[int]:
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp,
            port=port,
            backend=backend,
            nofile=nofile,
            connections=max(1024, nofile // 2),
            user="user root;" if os.geteuid() == 0 else "",
        )
    )
    proc = CHILDREN.start(
        "nginx",
        [nginx, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_port(port, proc, "nginx")
    deadline = time.monotonic() + 5
    pids = descendants(proc.pid)
    while len(pids) < 2 and time.monotonic() < deadline:  # master + its worker
        time.sleep(0.05)
        pids = descendants(proc.pid)
    return pids


def portico_env(tmp: Path, keepalive: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
        PORTICO_VAR_DIR=str(tmp),
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


def start_portico(
    root: Path, env: dict[str, str], port: int, backend: int, log_path: Path, *, workers: int = 1
):
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
    with open(log_path, "w") as log_file:
        proc = CHILDREN.start(
            "portico",
            [*manage, "run_gateway", "--host", "127.0.0.1", "--port", str(port)]
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
            if status(port).get("apis", 0) >= 1:
                break
        time.sleep(0.2)
    else:
        raise RuntimeError("portico serves no API: see " + str(log_path))
    url = f"ws://127.0.0.1:{port}/{info['api_suffix']}?subscription-key={info['primary_key']}"
    return proc, url


# --- the load client -----------------------------------------------------------------------------


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
        CHILDREN.stop(proc)
        CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if p is not proc]
    if result is None:
        return {"error": f"client exited with {proc.returncode} and no result (timeout?)"}
    return result


def run_idle(url: str, count: int, proxy_pids: list[int], *, settle: float) -> dict:
    """Open `count` idle connections; RSS of the proxy processes before and after."""
    if not proxy_pids:
        return {"skipped": "no proxy process"}
    before = rss_kib(proxy_pids)
    config = {
        "mode": "idle",
        "url": url,
        "count": count,
        "concurrency": 50,
        "hold_seconds": 120,
    }
    proc = CHILDREN.start(
        "client",
        [NODE, str(BENCH / "client.mjs"), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(180, proc.kill)
    timer.start()
    opened: dict = {}
    result: dict = {}
    after = before
    try:
        for line in proc.stdout:
            if line.startswith("EVENT "):
                opened = json.loads(line[6:])
                time.sleep(settle)
                after = rss_kib(proxy_pids)
                proc.stdin.write("close\n")
                proc.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait()
    finally:
        timer.cancel()
        CHILDREN.stop(proc)
        CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if p is not proc]
    if not opened or not opened.get("opened"):
        return {"error": "no idle connections opened", "client": opened or result}
    n = opened["opened"]
    return {
        "connections": n,
        "open_errors": opened.get("errors", 0),
        "error_samples": opened.get("error_samples", []),
        "open_seconds": opened.get("seconds"),
        "still_open_at_end": result.get("still_open"),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": (after - before) / n,
    }


def split_cpu(result: dict, proxy_pids: list[int], backend_pid: int) -> dict:
    """Proxy and backend CPU from the client's per-pid samples (no proxy figures for direct)."""
    by_pid = result.get("cpu_ms_by_pid")
    if not by_pid:
        return result
    seconds = result.get("seconds") or 1.0
    if proxy_pids:
        result["proxy_cpu_ms"] = sum(by_pid.get(str(p), 0.0) for p in proxy_pids)
        result["proxy_cpu_pct"] = result["proxy_cpu_ms"] / 10 / seconds
    result["backend_cpu_ms"] = by_pid.get(str(backend_pid), 0.0)
    result["backend_cpu_pct"] = result["backend_cpu_ms"] / 10 / seconds
    if result.get("machine_busy_ms") is not None:
        # Whatever else ran on the machine during the window (other users' tests, builds...).
        ours = result.get("proxy_cpu_ms", 0.0) + result["backend_cpu_ms"] + result["client_cpu_ms"]
        result["other_cpu_pct"] = max(0.0, result["machine_busy_ms"] - ours) / 10 / seconds
    return result


def measure(name: str, url: str, proxy_pids: list[int], backend_pid: int, args) -> dict:
    pids = [*proxy_pids, backend_pid]
    bound = args.warmup + args.duration + 60
    out: dict = {"proxy_pids": proxy_pids}

    tests = args.tests
    if "rtt" in tests:
        log(f"{name}: round trips, 50 connections x 64 B text, {args.duration:g}s")
        out["rtt"] = measure_rtt(url, pids, proxy_pids, backend_pid, args, bound)
    if "throughput" in tests:
        log(f"{name}: throughput, 4 connections x 64 KiB binary, {args.duration:g}s")
        out["throughput"] = measure_throughput(url, pids, proxy_pids, backend_pid, args, bound)
    if "handshake" in tests:
        log(f"{name}: handshakes, 8 parallel connect+close loops, {args.duration:g}s")
        out["handshake"] = measure_handshakes(url, pids, proxy_pids, backend_pid, args, bound)
    if "idle" in tests and proxy_pids and args.idle_connections > 0:
        log(f"{name}: {args.idle_connections} idle connections")
        time.sleep(1.0)  # let the handshake test's closing connections drain
        out["idle"] = run_idle(url, args.idle_connections, proxy_pids, settle=args.settle)
    return out


def measure_rtt(url, pids, proxy_pids, backend_pid, args, bound) -> dict:
    rtt = run_client(
        {
            "mode": "rtt",
            "url": url,
            "connections": 50,
            "size": 64,
            "binary": False,
            "warmup": args.warmup,
            "duration": args.duration,
            "pids": pids,
            "max_messages": 50_000_000,
        },
        timeout=bound,
    )
    rtt = split_cpu(rtt, proxy_pids, backend_pid)
    if rtt.get("messages"):
        if proxy_pids:
            rtt["proxy_cpu_us_per_relayed_msg"] = rtt["proxy_cpu_ms"] * 1e3 / (2 * rtt["messages"])
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


def measure_recording_off(args, env: dict, backend_port: int, backend_pid: int, tmp: Path):
    """The round-trip test again on a Portico with telemetry recording turned off."""
    log("portico (recording off): round trips, 50 connections x 64 B text")
    port = free_port()
    # A database of its own: the handshake test left its policy set on the first one's API.
    env = {
        **env,
        "PORTICO_TELEMETRY_ENABLED": "0",
        "DATABASE_URL": f"sqlite:///{tmp}/db-recording-off.sqlite3",
    }
    proc, url = start_portico(args.portico_root, env, port, backend_port, tmp / "portico-off.log")
    try:
        pids = descendants(proc.pid)
        bound = args.warmup + args.duration + 60
        return measure_rtt(url, [*pids, backend_pid], pids, backend_pid, args, bound)
    finally:
        CHILDREN.stop(proc, timeout=10)
        CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if p is not proc]


# --- report --------------------------------------------------------------------------------------


def pick(results: dict, target: str, *path: str):
    value = results.get(target)
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, int | float) else None


NO_RATIO = ("client CPU", "other processes")
OTHER_LOAD_PCT = 15.0  # % of one core used by processes that are not part of the benchmark
ROWS = [
    # label, path, format
    ("round trips/s (50 conn, 64 B)", ("rtt", "round_trips_per_s"), "{:,.0f}"),
    ("p50 latency ms (50 conn)", ("rtt", "p50_ms"), "{:.3f}"),
    ("p99 latency ms (50 conn)", ("rtt", "p99_ms"), "{:.3f}"),
    ("proxy CPU us / relayed msg (64 B)", ("rtt", "proxy_cpu_us_per_relayed_msg"), "{:.1f}"),
    (
        "  same, telemetry recording off",
        ("rtt_recording_off", "proxy_cpu_us_per_relayed_msg"),
        "{:.1f}",
    ),
    ("proxy CPU % (50 conn, 64 B)", ("rtt", "proxy_cpu_pct"), "{:.0f}"),
    ("backend CPU us / msg (64 B)", ("rtt", "backend_cpu_us_per_msg"), "{:.1f}"),
    ("client CPU % (50 conn, 64 B)", ("rtt", "client_cpu_pct"), "{:.0f}"),
    ("other processes CPU % (64 B)", ("rtt", "other_cpu_pct"), "{:.0f}"),
    ("MB/s echoed (4 conn, 64 KiB)", ("throughput", "mb_per_s"), "{:,.1f}"),
    ("proxy CPU us / relayed 64 KiB msg", ("throughput", "proxy_cpu_us_per_relayed_msg"), "{:.0f}"),
    ("client CPU % (64 KiB)", ("throughput", "client_cpu_pct"), "{:.0f}"),
    ("handshakes/s (8 loops)", ("handshake", "handshakes_per_s"), "{:,.0f}"),
    ("handshake p50 ms", ("handshake", "p50_ms"), "{:.2f}"),
    ("proxy CPU ms / handshake", ("handshake", "proxy_cpu_ms_per_handshake"), "{:.2f}"),
    (
        "proxy CPU ms / handshake + policies",
        ("handshake_policies", "proxy_cpu_ms_per_handshake"),
        "{:.2f}",
    ),
    ("client CPU % (handshakes)", ("handshake", "client_cpu_pct"), "{:.0f}"),
    ("other processes CPU % (handshakes)", ("handshake", "other_cpu_pct"), "{:.0f}"),
    ("KiB / idle proxied connection", ("idle", "kib_per_connection"), "{:.1f}"),
    # Two roles (run_portal + run_gateway) and worker processes: Portico only.
    ("node handshake p50 ms, portal idle", ("nodes_flood", "quiet_p50_ms"), "{:.2f}"),
    ("node handshake p99 ms, portal idle", ("nodes_flood", "quiet_p99_ms"), "{:.2f}"),
    ("node handshake p50 ms, login flood", ("nodes_flood", "flood_p50_ms"), "{:.2f}"),
    ("node handshake p99 ms, login flood", ("nodes_flood", "flood_p99_ms"), "{:.2f}"),
    ("  wrong-password logins/s on portal", ("nodes_flood", "flood_logins_per_s"), "{:.1f}"),
    ("round trips/s, --workers 1", ("nodes_workers", "w1_round_trips_per_s"), "{:,.0f}"),
    ("round trips/s, --workers 2", ("nodes_workers", "w2_round_trips_per_s"), "{:,.0f}"),
    ("CPU us / relayed msg, --workers 1", ("nodes_workers", "w1_cpu_us_per_msg"), "{:.1f}"),
    ("CPU us / relayed msg, --workers 2", ("nodes_workers", "w2_cpu_us_per_msg"), "{:.1f}"),
    ("idle connections held (many)", ("nodes_idle", "opened"), "{:,.0f}"),
    ("  KiB / idle connection (many)", ("nodes_idle", "kib_per_connection"), "{:.1f}"),
    ("  idle CPU % of a core (all workers)", ("nodes_idle", "idle_cpu_pct"), "{:.1f}"),
]


def verdicts(results: dict) -> dict[str, tuple[str, str]]:
    """label -> (target text, PASS/MISS/n/a); never asserts."""

    def judge(value, limit):
        if value is None or limit is None:
            return "n/a"
        return "PASS" if value <= limit else "MISS"

    out = {}
    p_cpu = pick(results, "portico", "rtt", "proxy_cpu_us_per_relayed_msg")
    n_cpu = pick(results, "nginx", "rtt", "proxy_cpu_us_per_relayed_msg")
    base = n_cpu if n_cpu is not None else REFERENCE["nginx_cpu_us_per_msg"]
    out["proxy CPU us / relayed msg (64 B)"] = (
        f"<= {MAX_CPU_RATIO:g}x nginx ({MAX_CPU_RATIO * base:.0f})",
        judge(p_cpu, MAX_CPU_RATIO * base),
    )
    p_hs = pick(results, "portico", "handshake", "proxy_cpu_ms_per_handshake")
    out["proxy CPU ms / handshake"] = (f"<= {MAX_HANDSHAKE_MS} ms", judge(p_hs, MAX_HANDSHAKE_MS))
    p_hs = pick(results, "portico", "handshake_policies", "proxy_cpu_ms_per_handshake")
    out["proxy CPU ms / handshake + policies"] = (
        f"<= {MAX_HANDSHAKE_MS} ms",
        judge(p_hs, MAX_HANDSHAKE_MS),
    )
    out["KiB / idle proxied connection"] = (
        f"<= {MAX_IDLE_KIB:g} KiB",
        judge(pick(results, "portico", "idle", "kib_per_connection"), MAX_IDLE_KIB),
    )
    n_p99 = pick(results, "nginx", "rtt", "p99_ms")
    out["p99 latency ms (50 conn)"] = (
        f"<= {MAX_P99_RATIO:g}x nginx"
        + (f" ({MAX_P99_RATIO * n_p99:.2f})" if n_p99 is not None else ""),
        judge(
            pick(results, "portico", "rtt", "p99_ms"),
            MAX_P99_RATIO * n_p99 if n_p99 is not None else None,
        ),
    )
    return out


def table(results: dict) -> str:
    judged = verdicts(results)
    header = ["figure", "direct", "nginx", "Portico", "Portico/nginx", "target", "verdict"]
    lines = [header]
    for label, path, fmt in ROWS:
        cells = [label]
        values = {t: pick(results, t, *path) for t in TARGETS}
        for target in TARGETS:
            value = values[target]
            if target not in results:
                cells.append("skipped")
            else:
                cells.append(fmt.format(value) if value is not None else "-")
        p, n = values["portico"], values["nginx"]
        ratio = p is not None and n and not label.startswith(NO_RATIO)
        cells.append(f"{p / n:.2f}x" if ratio else "-")
        target_text, verdict = judged.get(label, ("", ""))
        cells += [target_text, verdict]
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for i, row in enumerate(lines):
        out.append(
            "  ".join(
                cell.ljust(widths[j]) if j == 0 or j >= 5 else cell.rjust(widths[j])
                for j, cell in enumerate(row)
            ).rstrip()
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def warnings(results: dict) -> list[str]:
    notes = []
    for target, data in results.items():
        if not isinstance(data, dict):
            continue
        for test in ("rtt", "throughput", "handshake", "idle"):
            r = data.get(test)
            if not isinstance(r, dict):
                continue
            if r.get("error"):
                notes.append(f"{target}/{test}: ERROR {r['error']}")
            if (r.get("client_cpu_pct") or 0) > CLIENT_SATURATED_PCT:
                notes.append(
                    f"{target}/{test}: load client at {r['client_cpu_pct']:.0f}% of a core: "
                    "it may be the bottleneck for throughput (CPU-per-message figures still hold)"
                )
            if (r.get("other_cpu_pct") or 0) > OTHER_LOAD_PCT:
                notes.append(
                    f"{target}/{test}: other processes used {r['other_cpu_pct']:.0f}% of a core "
                    f"(of {os.cpu_count()}): figures are disturbed; rerun on a quiet machine"
                )
            if r.get("failures") or r.get("errors") or r.get("open_errors"):
                n = r.get("failures") or r.get("errors") or r.get("open_errors")
                samples = r.get("error_samples") or ""
                notes.append(f"{target}/{test}: {n} failed connections {samples}")
    return notes


def versions(nginx: str | None) -> dict:
    info = {"python": platform.python_version(), "machine_cpus": os.cpu_count()}
    with contextlib.suppress(Exception):
        info["node"] = subprocess.run(
            [NODE, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    with contextlib.suppress(Exception):
        ws = json.loads((BENCH / "node_modules" / "ws" / "package.json").read_text())
        info["node_ws"] = ws["version"]
    if nginx:
        with contextlib.suppress(Exception):
            info["nginx"] = subprocess.run(
                [nginx, "-v"], capture_output=True, text=True, check=False
            ).stderr.strip()
    for module in ("uvicorn", "websockets", "uvloop", "httptools", "django", "channels"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            info[module] = version(module)
    return info


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, help="measured seconds per test (default 10)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per test (default 2)")
    parser.add_argument(
        "--only", default=",".join(TARGETS), help="comma list of: direct,nginx,portico"
    )
    parser.add_argument("--idle-connections", type=int, help="idle test size (default 2000)")
    parser.add_argument(
        "--tests", default=",".join(TESTS), help="comma list of: " + ",".join(TESTS)
    )
    parser.add_argument("--quick", action="store_true", help="about one minute, smaller tests")
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
        "--portico-root",
        type=Path,
        default=ROOT,
        help="checkout whose manage.py runs Portico (to compare a patched copy)",
    )
    parser.add_argument(
        "--idle-many",
        type=int,
        default=0,
        help="idle connections held across the workers of one node (e.g. 30000; 0 skips)",
    )
    parser.add_argument(
        "--idle-many-workers", type=int, default=4, help="workers for --idle-many (default 4)"
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
    if args.idle_connections is None:
        args.idle_connections = 300 if args.quick else 2000
    args.settle = 1.0 if args.quick else 2.0
    args.only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(args.only) - set(TARGETS)
    if unknown:
        parser.error(f"--only: unknown target(s) {', '.join(sorted(unknown))}")
    args.tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    unknown = set(args.tests) - set(TESTS)
    if unknown:
        parser.error(f"--tests: unknown test(s) {', '.join(sorted(unknown))}")
    return args


NODE = shutil.which("node") or "/usr/bin/node"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    nofile = raise_fd_limit(max(4 * args.idle_connections, 20_000) + 1024)
    ensure_node_modules()
    nginx = ensure_nginx() if "nginx" in args.only else None
    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    started = datetime.now(UTC)
    results: dict = {}
    meta = {
        "started": started.isoformat(),
        "label": args.label,
        "argv": sys.argv[1:] if argv is None else argv,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "idle_connections": args.idle_connections,
        "portico_keepalive_s": args.keepalive,
        "portico_root": str(args.portico_root),
        "backend": "node ws echo (separate process, 1 thread)"
        if args.backend == "node"
        else "python websockets echo (gateway/echo_backend.py)",
        "load_client": "node ws client (client.mjs), one process",
        "nginx": "1 worker process" if nginx else "skipped",
        "portico": "manage.py run_gateway --workers 1 (uvicorn); node rows: run_portal and "
        "run_gateway --workers N as separate processes",
        "relayed_message_rule": "one round trip = 2 relayed messages (up + down)",
        "fd_limit": nofile,
        "versions": versions(nginx),
    }
    log(
        f"load client: Node.js ws (one process); backend: {meta['backend']}; "
        f"Portico keepalive {args.keepalive:g}s; fd limit {nofile}; temp dir {tmp}"
    )
    try:
        env = portico_env(tmp, args.keepalive)
        backend_port = free_port()
        if args.backend == "node":
            backend = start_node_backend(backend_port)
        else:
            backend = start_python_backend(backend_port, env, args.portico_root)
        direct_url = f"ws://127.0.0.1:{backend_port}/"
        for target in TARGETS:
            if target not in args.only:
                continue
            if target == "direct":
                results["direct"] = measure("direct", direct_url, [], backend.pid, args)
            elif target == "nginx":
                if nginx is None:
                    results["nginx"] = {"skipped": "nginx not installed"}
                    continue
                port = free_port()
                pids = start_nginx(nginx, tmp, port, backend_port, nofile)
                try:
                    results["nginx"] = measure(
                        "nginx", f"ws://127.0.0.1:{port}/", pids, backend.pid, args
                    )
                finally:
                    CHILDREN.stop(next(p for n, p in CHILDREN.procs if n == "nginx"))
                    CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if n != "nginx"]
            else:
                port = free_port()
                proc, url = start_portico(
                    args.portico_root, env, port, backend_port, tmp / "portico.log"
                )
                try:
                    pids = descendants(proc.pid)
                    results["portico"] = measure("portico", url, pids, backend.pid, args)
                    if "flood" in args.tests:
                        results["portico"]["nodes_flood"] = bench_nodes.flood(
                            sys.modules[__name__], args, env, url, pids, backend.pid, tmp
                        )
                    if "handshake" in args.tests:
                        log(f"portico: handshakes with policies ({bench_policies.LABEL})")
                        bench_policies.apply(PYTHON, args.portico_root, env, port)
                        guarded = f"{url}&access_token={bench_policies.token()}"
                        bound = args.warmup + args.duration + 60
                        results["portico"]["handshake_policies"] = measure_handshakes(
                            guarded, [*pids, backend.pid], pids, backend.pid, args, bound
                        )
                finally:
                    CHILDREN.stop(proc, timeout=10)
                    CHILDREN.procs = [(n, p) for n, p in CHILDREN.procs if p is not proc]
                if "rtt" in args.tests:
                    results["portico"]["rtt_recording_off"] = measure_recording_off(
                        args, env, backend_port, backend.pid, tmp
                    )
                node_env = {**env, "PORTICO_LIMITS_STORAGE": args.redis_url}
                here = sys.modules[__name__]
                if ("workers" in args.tests or args.idle_many) and not args.redis_url:
                    log("nodes: multi-worker rows skipped: no --redis-url / REDIS_URL")
                elif "workers" in args.tests:
                    results["portico"]["nodes_workers"] = bench_nodes.workers(
                        here, args, node_env, backend_port, backend.pid, tmp
                    )
                if args.idle_many and args.redis_url:
                    results["portico"]["nodes_idle"] = bench_nodes.idle_many(
                        here, args, node_env, tmp
                    )
    finally:
        CHILDREN.stop_all()
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(
        f"Portico benchmark, {args.duration:g}s per test after {args.warmup:g}s warm-up; "
        f"load client: Node.js ws, one process; backend: {meta['backend']}; "
        f"nginx: {meta['nginx']}; Portico: 1 process, keepalive {args.keepalive:g}s"
    )
    print("CPU per relayed message: a round trip counts as 2 relayed messages (up + down).")
    print(table(results))
    for note in warnings(results):
        print("note:", note)
    print(
        "reference (prototype, this machine): nginx 15 us/msg, 0.28 ms/handshake, 17.7 KiB/conn; "
        "bare ASGI relay 58 us/msg (uvloop), 1.9 ms/handshake, 33.6 KiB/conn"
    )
    if not args.no_save:
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        path = out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
        payload = {
            "meta": meta,
            "results": results,
            "verdicts": {k: {"target": t, "verdict": v} for k, (t, v) in verdicts(results).items()},
            "reference": REFERENCE,
        }
        path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        CHILDREN.stop_all()
        sys.exit(130)
