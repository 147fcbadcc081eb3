"""Issue 26's benchmark rows: 1 publisher -> 1,000 and 10,000 subscribers on one node with two
workers, through an event-source API (Redis Streams) and, side by side, through a
WebSocket-backend API whose backend broadcasts the same messages to the same number of clients.

    .venv/bin/python bench/event_sources.py [--subscribers 1000 10000] [--seconds 10]
        [--redis-url redis://127.0.0.1:6379/6]

Per row: delivered messages/s (every client counts what it got in the window), publish-to-client
latency p50/p99 (the publisher's time.time_ns() in each message; every 10th message per client
is sampled) and the node's CPU (its two workers and supervisor, /proc ticks) per delivered
message. The offered load is `--deliveries` per second in total (rate = deliveries /
subscribers), so both sizes relay about as many messages. Clients run in processes of at most
5,000 connections (the 20,000 open-file limit per process, and a node worker holds a client
and, for the WebSocket API, a backend leg per connection). Figures are printed, never asserted.
Uses bench/run.py's child-process and CPU helpers; every child is stopped by PID.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import run as h  # bench/run.py (the script's folder is on sys.path)

PER_PROCESS = 5_000
OPEN_TIMEOUT = 600


def add_fanout_apis(root: Path, env: dict, backend_port: int, redis_url: str, stream: str):
    code = (
        "from apis import services\n"
        "from apis.models import Product\n"
        "g = services.ensure_builtin_gateway()\n"
        "p = Product.objects.get(name='starter')\n"
        "made = [\n"
        f"  services.create_api(display_name='Fan-out WS', url_suffix='fanout-ws',"
        f" backend_url='ws://127.0.0.1:{backend_port}/sub', gateways=[g]),\n"
        f"  services.create_api(display_name='Fan-out stream', url_suffix='fanout-stream',"
        f" backend_url={redis_url!r}, source={{'subscribe': {stream!r}, 'queue': 1024}},"
        " gateways=[g]),\n"
        "]\n"
        "services.update_product(product=p, apis=[*p.apis.all(), *made])\n"
    )
    subprocess.run(  # noqa: S603
        [h.PYTHON, "manage.py", "shell", "-c", code],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def start_clients(url: str, total: int) -> list[subprocess.Popen]:
    procs = []
    left = total
    while left > 0:
        count = min(PER_PROCESS, left)
        left -= count
        config = {"url": url, "count": count, "concurrency": 32}
        procs.append(
            h.CHILDREN.start(
                "fan-out clients",
                [h.PYTHON, str(h.BENCH / "fanout_peers.py"), "clients", json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def wait_open(procs: list[subprocess.Popen]) -> int:
    opened = 0
    deadline = time.monotonic() + OPEN_TIMEOUT
    for proc in procs:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("a client process ended before opening its connections")
            if line.startswith("OPEN "):
                opened += int(line.split()[1])
                break
    return opened


def stop_clients(procs: list[subprocess.Popen]) -> list[dict]:
    results = []
    for proc in procs:
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    for proc in procs:
        deadline = time.monotonic() + 120
        result = {"error": "no result"}
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
                break
        results.append(result)
        h.CHILDREN.stop(proc, timeout=30)
    return results


def publish_redis(redis_url: str, stream: str, rate: float, seconds: float) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        client.xadd(stream, {"t": str(time.time_ns())}, maxlen=10_000, approximate=True)
        sent += 1
        time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    client.close()
    return sent


def publish_ws(port: int, rate: float, seconds: float) -> int:
    from websockets.sync.client import connect

    sent = 0
    with connect(f"ws://127.0.0.1:{port}/pub", compression=None) as ws:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            ws.send(json.dumps({"t": time.time_ns()}))
            sent += 1
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    return sent


def measure(label, url, subscribers, publish, node_pids, drain) -> dict:
    clients = start_clients(url, subscribers)
    try:
        opened = wait_open(clients)
        time.sleep(2.0)  # the last handshakes' work is done before the window
        before = h.ticks(node_pids)
        started = time.monotonic()
        sent = publish()
        time.sleep(drain)  # the last messages arrive (a busy machine lags)
        elapsed = time.monotonic() - started
        cpu_ms = (h.ticks(node_pids) - before) * 10
    finally:
        results = stop_clients(clients)
    received = sum(r.get("received", 0) for r in results)
    p50 = [r["p50_ms"] for r in results if r.get("p50_ms") is not None]
    p99 = [r["p99_ms"] for r in results if r.get("p99_ms") is not None]
    row = {
        "api": label,
        "subscribers": subscribers,
        "opened": opened,
        "published": sent,
        "delivered": received,
        "expected": sent * opened,
        "delivered_per_s": received / elapsed,
        "p50_ms": max(p50) if p50 else None,  # the slowest client process's median
        "p99_ms": max(p99) if p99 else None,
        "node_cpu_us_per_msg": cpu_ms * 1000 / received if received else None,
        "node_cpu_pct": cpu_ms / 10 / elapsed,
    }
    h.log(f"{label} x{subscribers}: {json.dumps(row)}")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--deliveries", type=float, default=20_000, help="offered per second")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds allowed after publishing")
    parser.add_argument("--apis", nargs="+", default=["stream", "ws"], choices=["stream", "ws"])
    args = parser.parse_args(argv)
    h.raise_fd_limit(20_000)
    tmp = Path(h.tempfile.mkdtemp(prefix="portico-fanout-"))
    stream = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    rows = []
    try:
        backend_port = h.free_port()
        backend = h.CHILDREN.start(
            "fan-out backend",
            [h.PYTHON, str(h.BENCH / "fanout_peers.py"), "backend", str(backend_port)],
        )
        h.wait_for_port(backend_port, backend, "fan-out backend")
        env = h.portico_env(tmp, keepalive=0)
        # Two workers share their counters in Redis (run_gateway refuses --workers 2 without).
        env.update(REDIS_URL=args.redis_url, PORTICO_LIMITS_STORAGE=args.redis_url)
        info = h.prepare_catalog(h.ROOT, env, backend_port)
        add_fanout_apis(h.ROOT, env, backend_port, args.redis_url, stream)
        port = h.free_port()
        node = h.launch_portico(h.ROOT, env, port, tmp / "node.log", workers=2, apis=3)
        node_pids = h.bench_nodes._wait_workers(h, node, 2)
        key = info["primary_key"]
        for subscribers in args.subscribers:
            rate = args.deliveries / subscribers
            for label, suffix, publish in (
                (
                    "event source (Redis Streams)",
                    "fanout-stream",
                    lambda rate=rate: publish_redis(args.redis_url, stream, rate, args.seconds),
                ),
                (
                    "WebSocket backend",
                    "fanout-ws",
                    lambda rate=rate: publish_ws(backend_port, rate, args.seconds),
                ),
            ):
                if suffix.removeprefix("fanout-") not in args.apis:
                    continue
                url = f"ws://127.0.0.1:{port}/{suffix}?subscription-key={key}"
                rows.append(measure(label, url, subscribers, publish, node_pids, args.drain))
    finally:
        h.CHILDREN.stop_all()
    print()
    print("| API | subscribers | msgs/s published | delivered msgs/s | delivered/expected |"
          " latency p50 ms | p99 ms | node CPU µs per delivered msg |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        share = r["delivered"] / r["expected"] if r["expected"] else 0
        print(
            f"| {r['api']} | {r['subscribers']:,} | {r['published'] / args.seconds:.1f} |"
            f" {r['delivered_per_s']:,.0f} | {share:.3f} | {fmt(r['p50_ms'])} |"
            f" {fmt(r['p99_ms'])} | {fmt(r['node_cpu_us_per_msg'])} |"
        )
    (tmp / "fanout.json").write_text(json.dumps(rows, indent=2))
    print(f"\nraw figures: {tmp / 'fanout.json'}")
    return 0


def fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
