"""Issue 31 item 6: 100,000 idle connections held across two gateway nodes, each in its own
network namespace (like two machines), for 10 minutes: memory, descriptors and tasks stay flat.

    sudo .venv/bin/python bench/hundred_k.py                                   # 2 x 50,000, 600 s
    .venv/bin/python bench/hundred_k.py --per-node 2000 --hold-seconds 60     # a small try

Needs root (`ip netns`), socat, PostgreSQL and Redis on loopback. A private /24 bridge on the
host holds the host's address, the clients' source addresses and one veth pair per node
namespace (tests/support/netns.py). Both nodes are managed gateways (`run_gateway --workers W`)
on one PostgreSQL database (dropped and created by the run) and share counters in Redis, both
reached through socat forwards on the bridge (they listen on loopback only). Echo backends
(echo_server.mjs) listen on the bridge; clients (hold_client.mjs) run on the host, each from its
own source address. No process holds more than ~20,000 descriptors: a worker two per proxied
connection, a client or backend one. Figures are printed and saved, never asserted; every child
is stopped by PID (and dies with the script: PR_SET_PDEATHSIG), the network removed at exit.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import hundred_k_probe as probe  # bench/hundred_k_probe.py
import run as h  # bench/run.py (the script's folder is on sys.path)

sys.path.insert(0, str(h.ROOT))
from tests.support.netns import IP, NamespaceNetwork  # noqa: E402 - after the path is set

NODES = 2
NODE_PORT = 8000  # each namespace is a machine of its own
WARM_CONNECTIONS = 60  # opened and closed per node first: imports and caches are not per connection


class HoldClient:
    """hold_client.mjs: opens its connections, then answers status/check commands."""

    def __init__(self, name: str, config: dict) -> None:
        self.name, self.node = name, config.pop("node")
        self.proc = h.CHILDREN.start(
            name,
            [h.NODE, str(h.BENCH / "hold_client.mjs"), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue = queue.Queue()
        self.result: dict = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("EVENT "):
                self.events.put(json.loads(line[6:]))
            elif line.startswith("RESULT "):
                self.result = json.loads(line[7:])
        self.events.put({"event": "exit"})

    def wait(self, event: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if got.get("event") in (event, "exit"):
                return got if got["event"] == event else None
        return None

    def ask(self, command: str, event: str, timeout: float) -> dict | None:
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return None
        return self.wait(event, timeout)

    def release(self) -> dict:
        self.ask("close", "none", 30)
        h.forget(self.proc)
        return self.result


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-node", type=int, default=50_000, help="connections per node")
    p.add_argument("--workers", type=int, default=6, help="run_gateway --workers per node")
    p.add_argument("--per-client", type=int, default=10_000, help="connections per client process")
    p.add_argument("--concurrency", type=int, default=12, help="handshakes in flight per client")
    p.add_argument("--hold-seconds", type=float, default=600)
    p.add_argument("--sample-seconds", type=float, default=20)
    p.add_argument("--open-timeout", type=float, default=1200)
    p.add_argument("--check", type=int, default=1000, help="round trips per node at the end")
    p.add_argument("--keepalive", type=float, default=30, help="PORTICO_KEEPALIVE_SECONDS")
    p.add_argument("--database", default="portico_bench_hundred_k", help="PostgreSQL database")
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"))
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--summary", metavar="JSON", help="print the summary of a saved run and exit")
    return p.parse_args(argv)


FORWARDS: list[subprocess.Popen] = []


def forward(listen: tuple[str, int], target: tuple[str, int]) -> subprocess.Popen:
    """socat from the bridge to a loopback service (PostgreSQL, Redis) for the namespaces."""
    proc = h.CHILDREN.start(
        "forward",
        [
            shutil.which("socat") or "socat",
            f"TCP-LISTEN:{listen[1]},bind={listen[0]},fork,reuseaddr,backlog=512",
            f"TCP:{target[0]}:{target[1]}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    FORWARDS.append(proc)
    return proc


def stop_forwards() -> None:
    """socat forks one process per connection, in its own process group: stop the group."""
    while FORWARDS:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(FORWARDS.pop().pid, signal.SIGTERM)


def start_backend(host: str) -> tuple[int, subprocess.Popen]:
    port = _free_port(host)
    proc = h.CHILDREN.start(
        "echo backend",
        [h.NODE, str(h.BENCH / "echo_server.mjs"), str(port), host],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if not proc.stdout.readline().startswith("READY"):
        raise RuntimeError("echo backend failed to start")
    return port, proc


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def prepare_database(args, tmp: Path, backends: list[str]) -> tuple[dict, str]:
    """A fresh database with the demo and one idle API per backend; the env and the demo key."""
    pg = "postgres://postgres@127.0.0.1:5432/" + args.database
    for tool in ("dropdb", "createdb"):
        # --force: a session left by an interrupted run must not block the fresh database.
        extra = ["--if-exists", "--force"] if tool == "dropdb" else []
        subprocess.run(  # noqa: S603
            [tool, "-h", "127.0.0.1", "-U", "postgres", *extra, args.database],
            check=True,
            capture_output=True,
        )
    env = {**h.portico_env(tmp, args.keepalive), "DATABASE_URL": pg}
    info = h.prepare_catalog(h.ROOT, env, 9)  # the demo's own API is not used here
    suffixes = {f"hk{i}": url for i, url in enumerate(backends)}
    h.add_apis(h.ROOT, env, suffixes, {}, tuple(suffixes))
    return env, info["primary_key"]


def start_node(net, index: int, env: dict, args, tmp: Path) -> subprocess.Popen:
    address = net.address(index)
    var = tmp / f"node{index}"
    var.mkdir()
    node_env = {
        **env,
        "PORTICO_VAR_DIR": str(var),
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{address}",
        "PORTICO_METRICS_ALLOWED_NETWORKS": f"{net.host}/24",
    }
    argv = [h.PYTHON, "manage.py", "run_gateway", "--host", address, "--port", str(NODE_PORT)]
    argv += ["--workers", str(args.workers)]
    with open(tmp / f"node{index}.log", "w") as log_file:
        return h.CHILDREN.start(
            f"node{index}",
            net.command(index, argv),
            cwd=h.ROOT,
            env=node_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def wait_node(address: str, proc: subprocess.Popen, count: int, apis: int, bound=300) -> list[int]:
    """The node's worker PIDs once every worker answers with the whole catalog."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node at {address} exited with {proc.returncode}")
        found = probe.workers(address, NODE_PORT, count, bound=10)
        pids = [p for p in h.descendants(proc.pid) if p != proc.pid]
        serving = [w for w in found.values() if (w.get("apis") or 0) >= apis]
        if len(serving) >= count and len(pids) >= count:
            return pids
        time.sleep(1)
    raise RuntimeError(f"node at {address}: not every worker answered within {bound}s")


def sample(started: float, nodes: list[dict], clients: list[HoldClient], backends) -> dict:
    out: dict = {"t": round(time.monotonic() - started, 1), "nodes": []}
    for node in nodes:
        answers = probe.workers(node["address"], NODE_PORT, len(node["workers"]))
        workers = {}
        for pid in node["workers"]:
            workers[pid] = {**probe.process(pid), **answers.get(pid, {})}
        out["nodes"].append({"supervisor": probe.process(node["proc"].pid), "workers": workers})
    out["clients"] = []
    for client in clients:
        answer = client.ask("status", "status", 30) or {}
        out["clients"].append({**probe.process(client.proc.pid), "open": answer.get("open")})
    out["backends"] = [probe.process(proc.pid) for _, proc in backends]
    with_conntrack = Path("/proc/sys/net/netfilter/nf_conntrack_count")
    if with_conntrack.exists():
        out["conntrack"] = int(with_conntrack.read_text())
    return out


def node_totals(s: dict, i: int) -> dict:
    node = s["nodes"][i]
    workers = node["workers"].values()

    def total(key):
        values = [w.get(key) for w in workers]
        return None if any(v is None for v in values) else sum(values)

    sup = node["supervisor"]
    return {
        "connections": total("connections"),
        "tasks": total("tasks"),
        "workers_rss_kib": total("rss_kib"),
        "rss_kib": (total("rss_kib") or 0) + (sup["rss_kib"] or 0),
        "fds": total("fds"),
        "max_worker_fds": max((w["fds"] or 0) for w in workers),
        "max_worker_rss_kib": max((w["rss_kib"] or 0) for w in workers),
        "max_worker_connections": max((w.get("connections") or 0) for w in workers),
    }


def drift(series: list) -> dict:
    """start, end and the largest departure from the start (% of the start)."""
    values = [v for v in series if v is not None]
    if not values or not values[0]:
        return {"start": values[0] if values else None, "end": values[-1] if values else None}
    first = values[0]
    worst = max(abs(v - first) for v in values)
    return {"start": first, "end": values[-1], "max_drift_pct": round(100 * worst / first, 2)}


def hold(args, tmp: Path, net: NamespaceNetwork) -> dict:
    net.up()
    h.log(f"network: bridge {net.bridge} ({net.host}), nodes {net.address(0)} {net.address(1)}")
    out: dict = {"args": vars(args), "started_utc": datetime.now(UTC).isoformat()}
    groups = math.ceil(args.per_node / args.per_client)
    # The clients' source addresses on the bridge: ~28,000 ports each per node address.
    sources = [f"{net.host.rsplit('.', 1)[0]}.{100 + j}" for j in range(NODES * groups)]
    for address in sources:
        subprocess.run(  # noqa: S603
            [IP, "addr", "add", f"{address}/24", "dev", net.bridge], check=True, capture_output=True
        )
    redis_port, pg_port = _free_port(net.host), _free_port(net.host)
    redis = args.redis_url.split("//", 1)[1]
    redis_host, _, rest = redis.partition(":")
    redis_target_port, _, redis_db = rest.partition("/")
    forward((net.host, redis_port), (redis_host, int(redis_target_port)))
    forward((net.host, pg_port), ("127.0.0.1", 5432))
    backends = [start_backend(net.host) for _ in range(NODES * groups)]
    env, key = prepare_database(args, tmp, [f"ws://{net.host}:{p}/" for p, _ in backends])
    node_redis = f"redis://{net.host}:{redis_port}/{redis_db or 0}"
    env.update(
        DATABASE_URL=f"postgres://postgres@{net.host}:{pg_port}/{args.database}",
        REDIS_URL=node_redis,
        PORTICO_LIMITS_STORAGE=node_redis,
    )
    procs = [start_node(net, i, env, args, tmp) for i in range(NODES)]
    nodes = []
    for i, proc in enumerate(procs):
        workers = wait_node(net.address(i), proc, args.workers, NODES * groups)
        nodes.append({"address": net.address(i), "proc": proc, "workers": workers})
        h.log(f"node {i} at {net.address(i)}: supervisor {proc.pid}, workers {workers}")

    def url(i: int, j: int) -> str:
        return f"ws://{net.address(i)}:{NODE_PORT}/hk{j}?subscription-key={key}"

    # Warm every worker (first handshake's imports), then the baseline memory.
    warm = [
        HoldClient(
            f"warm{i}",
            {
                "node": i,
                "url": url(i, i),
                "count": WARM_CONNECTIONS,
                "concurrency": 8,
                "local_address": sources[i],
                "hold_seconds": 120,
                "max_errors": 50,
            },
        )  # fmt: skip
        for i in range(NODES)
    ]
    for client in warm:
        client.wait("open", 120)
        client.ask(f"check {WARM_CONNECTIONS}", "check", 60)
        client.release()
    time.sleep(3)
    before = sample(time.monotonic(), nodes, [], backends)
    out["before"] = before

    clients: list[HoldClient] = []
    began = time.monotonic()
    for i in range(NODES):
        left = args.per_node
        for g in range(groups):
            j = i * groups + g
            count = min(args.per_client, left)
            left -= count
            config = {
                "node": i,
                "url": url(i, j),
                "count": count,
                "concurrency": args.concurrency,
                "local_address": sources[j],
                "hold_seconds": args.open_timeout + args.hold_seconds + 600,
                "max_errors": max(100, count // 5),
            }
            clients.append(HoldClient(f"client{j}", config))
    h.log(f"opening {NODES} x {args.per_node:,} connections from {len(clients)} clients")
    opened = []
    for client in clients:
        left = max(1.0, began + args.open_timeout - time.monotonic())
        opened.append(client.wait("open", left) or {"opened": None})
    out["open_seconds"] = round(time.monotonic() - began, 1)
    out["opened_per_client"] = [o.get("opened") for o in opened]
    out["open_errors"] = sum(o.get("errors") or 0 for o in opened)
    out["open_error_samples"] = [e for o in opened for e in o.get("error_samples", [])][:8]
    h.log(f"opened {out['opened_per_client']} in {out['open_seconds']} s; settling")
    time.sleep(5)

    samples = []
    pids = [p for n in nodes for p in (n["proc"].pid, *n["workers"])]
    cpu_nodes = [[n["proc"].pid, *n["workers"]] for n in nodes]
    hold_start = time.monotonic()
    cpu0 = [h.ticks(p) for p in cpu_nodes]
    machine0 = h.machine_busy_ticks()
    for _ in range(int(args.hold_seconds // args.sample_seconds) + 2):
        samples.append(sample(hold_start, nodes, clients, backends))
        last = samples[-1]
        brief = [node_totals(last, i) for i in range(NODES)]
        h.log(
            f"t={last['t']:.0f}s "
            + "; ".join(
                f"node{i} {b['connections']} conns, {b['tasks']} tasks, "
                f"{b['rss_kib'] / 1024:.0f} MiB, max fds {b['max_worker_fds']}"
                for i, b in enumerate(brief)
            )
        )
        next_at = hold_start + len(samples) * args.sample_seconds
        if next_at - hold_start > args.hold_seconds:
            break
        time.sleep(max(0.0, next_at - time.monotonic()))
    seconds = time.monotonic() - hold_start
    cpu1 = [h.ticks(p) for p in cpu_nodes]
    machine1 = h.machine_busy_ticks()
    out["hold_seconds"] = round(seconds, 1)
    # 100 ticks per second: ticks per second = % of one core.
    out["idle_cpu_pct_per_node"] = [
        round((b - a) / seconds, 2) for a, b in zip(cpu0, cpu1, strict=True)
    ]
    out["machine_busy_pct"] = round((machine1 - machine0) / seconds, 1)  # % of one core

    # Every connection still open? Round trips on a sample of each node's connections.
    checks = []
    for i in range(NODES):
        mine = [c for c in clients if c.node == i]
        per = math.ceil(args.check / len(mine))
        results = [c.ask(f"check {per}", "check", 90) or {} for c in mine]
        checks.append(
            {
                "checked": sum(r.get("checked", 0) for r in results),
                "ok": sum(r.get("ok", 0) for r in results),
                "open": sum(r.get("open", 0) for r in results),
            }
        )
    out["checks"] = checks
    out["samples"] = samples
    out["pids"] = pids
    for client in clients:
        client.release()
    return out


def summary(out: dict) -> str:
    samples = out["samples"]
    before = out["before"]
    lines = [
        f"opened per client: {out['opened_per_client']} in {out['open_seconds']} s "
        f"({out['open_errors']} failed attempts, retried)",
        f"held {out['hold_seconds']} s, {len(samples)} samples; machine busy "
        f"{out['machine_busy_pct']}% of a core over the hold",
    ]
    for i in range(NODES):
        end = node_totals(samples[-1], i)
        base = node_totals(before, i)
        # A worker too busy to answer one sample leaves that sample's count unknown.
        known = [c for s in samples if (c := node_totals(s, i)["connections"]) is not None]
        held = known[-1] if known else 0
        grown = (end["workers_rss_kib"] or 0) - (base["workers_rss_kib"] or 0)
        lines.append(
            f"node {i}: {held:,} connections held ({known[0] if known else None} at start), "
            f"RSS {end['rss_kib'] / 1024:.0f} MiB (workers {end['workers_rss_kib'] / 1024:.0f}, "
            f"max worker {end['max_worker_rss_kib'] / 1024:.0f} MiB), "
            f"{grown / max(1, held):.1f} KiB per connection, "
            f"max connections on a worker {end['max_worker_connections']:,}, "
            f"max fds on a worker {max(node_totals(s, i)['max_worker_fds'] for s in samples):,}, "
            f"idle CPU {out['idle_cpu_pct_per_node'][i]}% of a core"
        )
        for key in ("connections", "tasks", "rss_kib", "fds"):
            d = drift([node_totals(s, i)[key] for s in samples])
            lines.append(f"    {key:12} start {d['start']} end {d['end']} "
                         f"max drift {d.get('max_drift_pct')}%")  # fmt: skip
        c = out["checks"][i]
        lines.append(f"    round trips at the end: {c['ok']}/{c['checked']} ok, "
                     f"{c['open']:,} open at the clients")  # fmt: skip
    fds = [p["fds"] or 0 for s in samples for p in (*s["clients"], *s["backends"])]
    fds += [w["fds"] or 0 for s in samples for n in s["nodes"] for w in n["workers"].values()]
    lines.append(f"most descriptors held by one process: {max(fds):,}")
    crss = [c["rss_kib"] or 0 for c in samples[-1]["clients"]]
    brss = [b["rss_kib"] or 0 for b in samples[-1]["backends"]]
    conntrack = samples[-1].get("conntrack")
    lines.append(
        f"clients {sum(crss) / 1024:.0f} MiB, backends {sum(brss) / 1024:.0f} MiB in all"
        + (f"; conntrack entries {conntrack:,}" if conntrack is not None else "")
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.summary:
        print(summary(json.loads(Path(args.summary).read_text())))
        return 0
    if os.geteuid() != 0:
        raise SystemExit("needs root: network namespaces (ip netns)")
    signal.signal(signal.SIGTERM, h._sigterm)
    h.ensure_node_modules()
    h.raise_fd_limit(20_000)
    tmp = Path(tempfile.mkdtemp(prefix="portico-100k-"))
    net = NamespaceNetwork(NODES)
    atexit.register(net.down)  # also on Ctrl-C; down() is safe to call twice
    try:
        out = hold(args, tmp, net)
    finally:
        h.CHILDREN.stop_all()  # by PID, before the namespaces go (down() stops any left)
        stop_forwards()
        net.down()
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    text = summary(out)
    print(text)
    if not args.no_save:
        results = h.BENCH / "results"
        results.mkdir(exist_ok=True)
        path = results / f"hundred_k-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
        path.write_text(json.dumps({**out, "summary": text}, indent=1, default=str))
        h.log(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
