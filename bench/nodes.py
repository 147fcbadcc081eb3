"""The two-roles and multi-worker rows of the benchmark (issues 11 and 17).

- flood: handshake p50/p99 on a gateway node (`run_gateway`) with and without a login flood on
  a separate portal process (`run_portal`, the same database);
- workers: relayed-message throughput and CPU of one node with `--workers 2` against one worker;
- idle60k: 60,000 idle proxied connections held across the workers of one node (memory per
  connection, idle CPU), spread over several client and echo-backend processes and source
  addresses, since no process here may hold more than 20,000 open files.

`h` is the harness module (bench/run.py): its child-process, client and CPU helpers.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path

FLOOD_LOOPS = 16  # the flood: 16 clients posting wrong passwords
CONNECTIONS_PER_PROCESS = 10_000  # clients and backends: one descriptor per connection
OPEN_TIMEOUT = 900  # seconds allowed to open every idle60k connection


def start_portal(h, root: Path, env: dict, port: int, log_path: Path):
    with open(log_path, "w") as log_file:
        proc = h.CHILDREN.start(
            "portal",
            [h.PYTHON, "manage.py", "run_portal", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    h.wait_for_port(port, proc, "portal", timeout=60)
    return proc


def flood(
    h, args, root: Path, env: dict, url: str, gateway_pids: list[int], backend_pid: int, tmp: Path
):
    """Handshakes on the node, quiet and then during a login flood on the portal."""
    port = h.free_port()
    # Every wrong password must cost the portal its password hash, as an attacker's would: no
    # lockout here (axes would answer the locked-out flood cheaply).
    portal_env = {**env, "PORTICO_LOGIN_FAILURE_LIMIT": "100000000"}
    portal = start_portal(h, root, portal_env, port, tmp / "portal.log")
    bound = args.warmup + args.duration + 60
    out: dict = {}
    try:
        portal_pids = h.descendants(portal.pid)
        pids = [*gateway_pids, backend_pid, *portal_pids]
        h.log("nodes: handshakes on the gateway node, portal idle")
        out["quiet"] = h.measure_handshakes(url, pids, gateway_pids, backend_pid, args, bound)
        h.log(f"nodes: handshakes on the gateway node, {FLOOD_LOOPS} login loops on the portal")
        seconds = args.warmup + args.duration + 3
        flood_proc = h.CHILDREN.start(
            "login flood",
            [
                h.NODE,
                str(h.BENCH / "login_flood.mjs"),
                json.dumps(
                    {
                        "base": f"http://127.0.0.1:{port}",
                        "concurrency": FLOOD_LOOPS,
                        "seconds": seconds,
                    }
                ),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(1.0)  # the flood is under way before the measured window
            busy = h.measure_handshakes(url, pids, gateway_pids, backend_pid, args, bound)
            busy["portal_cpu_pct"] = _pct(busy, portal_pids)
            out["flood"] = busy
            text, _ = flood_proc.communicate(timeout=seconds + 60)
            line = next((x for x in text.splitlines() if x.startswith("RESULT ")), None)
            out["flood_client"] = json.loads(line[7:]) if line else {"error": "no result"}
        finally:
            h.CHILDREN.stop(flood_proc)
            h.CHILDREN.procs = [(n, p) for n, p in h.CHILDREN.procs if p is not flood_proc]
    finally:
        h.CHILDREN.stop(portal, timeout=10)
        h.CHILDREN.procs = [(n, p) for n, p in h.CHILDREN.procs if p is not portal]
    for key in ("quiet", "flood"):
        out[f"{key}_p50_ms"] = out[key].get("p50_ms")
        out[f"{key}_p99_ms"] = out[key].get("p99_ms")
    out["flood_logins_per_s"] = out.get("flood_client", {}).get("per_s")
    return out


def _pct(result: dict, pids: list[int]) -> float | None:
    by_pid = result.get("cpu_ms_by_pid") or {}
    seconds = result.get("seconds") or 0
    if not seconds:
        return None
    return sum(by_pid.get(str(p), 0.0) for p in pids) / 10 / seconds


def workers(h, args, root: Path, env: dict, backend_port: int, backend_pid: int, tmp: Path) -> dict:
    """Round trips (50 connections x 64 B) through one node with --workers 1, then --workers 2."""
    out: dict = {}
    bound = args.warmup + args.duration + 60
    for count in (1, 2):
        port = h.free_port()
        db = f"sqlite:///{tmp}/db-workers-{count}.sqlite3"
        node_env = {**env, "DATABASE_URL": db}
        proc, url = h.start_portico(
            root,
            node_env,
            port,
            backend_port,
            tmp / f"portico-workers-{count}.log",
            workers=count,
        )
        try:
            pids = _wait_workers(h, proc, count)
            h.log(f"nodes: round trips through --workers {count}")
            rtt = h.measure_rtt(url, [*pids, backend_pid], pids, backend_pid, args, bound)
            out[f"w{count}"] = rtt
            out[f"w{count}_round_trips_per_s"] = rtt.get("round_trips_per_s")
            out[f"w{count}_cpu_us_per_msg"] = rtt.get("proxy_cpu_us_per_relayed_msg")
            out[f"w{count}_p99_ms"] = rtt.get("p99_ms")
        finally:
            h.CHILDREN.stop(proc, timeout=20)
            h.CHILDREN.procs = [(n, p) for n, p in h.CHILDREN.procs if p is not proc]
    return out


def _wait_workers(h, proc, count: int, timeout: float = 120.0) -> list[int]:
    """The supervisor and its `count` workers once every worker listens (they start slowly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = h.descendants(proc.pid)
        if len(pids) >= (count + 1 if count > 1 else 1):
            answered = set()
            for _ in range(8 * count):
                try:
                    answered.add(h.status(proc.port)["pid"])
                except OSError:
                    pass
            if len(answered) >= count:
                return pids
        time.sleep(0.5)
    raise RuntimeError(f"--workers {count}: not every worker answered")


def idle60k(h, ctx, target, index: int) -> dict:
    """Hold ctx.args.idle60k_connections idle connections through one node with several workers.

    One echo backend process and one API per 10,000 connections (so the gateway's connections
    to each backend stay well inside the ephemeral port range per destination), and one client
    process per API, each from its own source address (127.0.0.x).
    """
    args = ctx.args
    total, count = args.idle60k_connections, args.idle60k_workers
    groups = math.ceil(total / CONNECTIONS_PER_PROCESS)
    per_group = math.ceil(total / groups)
    out: dict = {"connections_wanted": total, "workers": count, "client_processes": groups}
    backends, clients, proc = [], [], None
    try:
        for _ in range(groups):
            port = h.free_port()
            backends.append((port, h.start_node_backend(port)))
        env = {
            **target.instance_env(ctx, "60k"),
            "REDIS_URL": args.redis_url,
            "PORTICO_LIMITS_STORAGE": args.redis_url,
        }
        suffixes = {f"idle{i}": f"ws://127.0.0.1:{p}/" for i, (p, _) in enumerate(backends)}
        h.add_apis(target.root, env, suffixes, {}, tuple(suffixes))
        port = h.free_port()
        h.log(f"{target.label}: idle60k: starting a node with --workers {count}")
        proc = h.launch_portico(
            target.root,
            env,
            port,
            ctx.tmp / f"{target.name}-60k.log",
            workers=count,
            apis=len(suffixes) + h.BENCH_APIS,
        )
        pids = _wait_workers(h, proc, count)
        workers_only = [p for p in pids if p != proc.pid] or pids
        before = h.rss_kib(workers_only)
        started = time.monotonic()
        h.log(f"{target.label}: idle60k: opening {total:,} connections from {groups} clients")
        key = target.info["primary_key"]
        for i, suffix in enumerate(suffixes):
            config = {
                "url": f"ws://127.0.0.1:{port}/{suffix}?subscription-key={key}",
                "count": per_group,
                "concurrency": 16,  # more only queues handshakes past their timeout here
                "hold_seconds": OPEN_TIMEOUT + args.idle_seconds + 300,
                # On a busy machine some handshakes time out: count them and try again.
                "max_errors": 2000,
                "retry_failed": True,
                # Its own source address: ~28,000 ephemeral ports per address and destination.
                "local_address": f"127.0.0.{2 + 20 * index + i}",
            }
            clients.append(h.IdleClient(config, f"idle60k client {i}"))
        deadline = started + OPEN_TIMEOUT
        opened = [c.wait_opened(max(1.0, deadline - time.monotonic())) for c in clients]
        out["open_seconds"] = time.monotonic() - started
        out["open_timed_out"] = sum(1 for o in opened if not o)
        # A client still opening when time ran out has not said how many it holds.
        out["opened"] = None if out["open_timed_out"] else sum(o["opened"] for o in opened)
        out["open_errors"] = sum(o.get("errors", 0) for o in opened)
        out["error_samples"] = [e for o in opened for e in o.get("error_samples", [])][:10]
        time.sleep(args.settle)
        after = h.rss_kib(workers_only)
        cpu0, t0 = h.ticks(workers_only), time.monotonic()
        h.log(
            f"{target.label}: idle60k: {out['opened'] or 'not all'} opened"
            + (
                f" ({out['open_timed_out']} clients still opening after {OPEN_TIMEOUT}s)"
                if out["open_timed_out"]
                else ""
            )
            + f"; idle CPU over {args.idle_seconds:g}s"
        )
        time.sleep(args.idle_seconds)
        cpu1, t1 = h.ticks(workers_only), time.monotonic()
        per_worker = _per_worker(h, port, count)
        out["per_worker_connections"] = per_worker
        out["max_worker_connections"] = max(per_worker.values(), default=None)
        # What the workers themselves count, when every worker answered the status poll.
        held = sum(per_worker.values()) if len(per_worker) == count else out["opened"]
        out["held"] = held or 0
        out["max_open_files_per_process"] = max(_open_files(p) for p in workers_only)
        out["rss_before_kib"], out["rss_after_kib"] = before, after
        # Per connection still held: on an overloaded machine some opened ones have closed since.
        out["kib_per_connection"] = (after - before) / max(1, out["held"])
        out["idle_seconds"] = t1 - t0
        out["idle_cpu_pct"] = (cpu1 - cpu0) / (t1 - t0)  # 10 ms ticks per second = % of a core
    finally:
        for client in clients:
            client.release(timeout=60)
        if proc is not None:
            h.forget(proc)
        h.forget(*(b for _, b in backends))
    return out


def _open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _per_worker(h, port: int, count: int) -> dict:
    seen: dict[int, int] = {}
    for _ in range(10 * count):
        try:
            status = h.status(port)
        except OSError:
            continue
        seen[status["pid"]] = status.get("connections", 0)
    return {str(k): v for k, v in seen.items()}
