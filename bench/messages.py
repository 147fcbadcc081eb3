"""Messages to live connections (issue 25, item 5): send latency, broadcast time, CPU per message.

One managed gateway node, `run_gateway --workers 2`, with REDIS_URL (the transport to its
processes) on a PostgreSQL database of its own, a Python echo backend, and Python clients
spread over processes (at most 5,000 connections each: no process here may hold more than
20,000 files). The control plane's side runs in this process, as a REST request would run it
(`apis.telemetry.delivery.deliver`, the live list read from the database), without HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico_bench_messages \\
    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/messages.py [--quick]

Rows (printed, and not asserted; the targets are the issue's):
- send latency p50/p99: from the call to the client's receipt (CLOCK_MONOTONIC is one clock
  for every process of the machine), one connection at a time (target: p99 <= 1 s);
- deliver() p50/p99: the call until the holding process's answer (what a REST send waits);
- broadcast to 1,000 and 10,000 connections: the call until every answer, and until the last
  client received it (target: 10,000 within 2 s);
- gateway CPU per delivered message: both workers' CPU during the broadcasts / deliveries.
"""
# ruff: noqa: E501 - command lines and table rows read better whole

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PER_CLIENT = 5_000
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fds() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


# The client processes ---------------------------------------------------------------------------


async def client_main(url: str, count: int) -> None:
    """Open `count` connections, say READY, then print `<monotonic> <text>` for each message."""
    from websockets.asyncio.client import connect

    raise_fds()
    sockets = []
    for start in range(0, count, 50):
        batch = [
            connect(url, open_timeout=60, max_size=None)
            for _ in range(start, min(count, start + 50))
        ]
        sockets += await asyncio.gather(*batch)
    print("READY", flush=True)
    out = sys.stdout

    async def read(ws):
        async for message in ws:
            out.write(f"{time.monotonic():.6f} {message}\n")
            out.flush()

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    for task in readers:
        task.cancel()


# The harness ------------------------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Clients:
    def __init__(self, url: str, total: int, env: dict) -> None:
        self.procs = []
        left = total
        while left > 0:
            n = min(PER_CLIENT, left)
            proc = subprocess.Popen(
                [PYTHON, __file__, "--client", url, str(n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=ROOT,
            )
            self.procs.append(proc)
            left -= n
        for proc in self.procs:
            line = b""
            while not line.endswith(b"\n"):
                byte = os.read(proc.stdout.fileno(), 1)
                if not byte:
                    raise RuntimeError("a client failed to start")
                line += byte
            if not line.startswith(b"READY"):
                raise RuntimeError(f"client failed: {line!r}")
        self.partial: dict[int, bytes] = {}  # an incomplete line read from each client

    def read_until(self, want: int, text: str, timeout: float) -> list[float]:
        """Receipt times of `want` messages equal to `text` (bounded by `timeout`). Raw reads:
        a buffered reader would keep lines that select() no longer reports."""
        import selectors

        sel = selectors.DefaultSelector()
        for proc in self.procs:
            sel.register(proc.stdout.fileno(), selectors.EVENT_READ, proc)
        times: list[float] = []
        deadline = time.monotonic() + timeout
        while len(times) < want and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                chunk = os.read(key.fd, 1 << 16)
                data = self.partial.get(key.fd, b"") + chunk
                *lines, self.partial[key.fd] = data.split(b"\n")
                for line in lines:
                    stamp, _, got = line.decode().partition(" ")
                    if got == text:
                        times.append(float(stamp))
        sel.close()
        return times

    def stop(self) -> None:
        for proc in self.procs:
            try:
                proc.stdin.close()
                proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()


def live_rows(count: int, timeout: float = 120):
    from apis.telemetry.models import LiveConnection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(
            LiveConnection.objects.select_related("process").filter(
                disconnect_requested_at__isnull=True
            )
        )
        if len(rows) >= count:
            return rows
        time.sleep(0.5)
    raise RuntimeError(f"only {len(rows)} of {count} listed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 sends, broadcasts of 1,000")
    parser.add_argument("--client", nargs=2, metavar=("URL", "N"))
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--sizes", default="", help="broadcast sizes, e.g. 1000,10000")
    parser.add_argument("--attempts", type=int, default=3, help="broadcasts per size")
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client[0], int(args.client[1])))
        return
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL"):
        sys.exit("set DATABASE_URL (PostgreSQL, a throwaway database) and REDIS_URL")
    raise_fds()
    env = {**os.environ, "SECRET_KEY": "bench", "DEBUG": "1", "PYTHONUNBUFFERED": "1"}
    env["PORTICO_LIMITS_KEY_PREFIX"] = f"bench-{os.getpid()}"
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "flush", "--no-input"], cwd=ROOT, env=env, check=True)
    setup_django()
    from apis import services
    from apis.models import Product
    from apis.telemetry import delivery

    backend_port, gateway_port = free_port(), free_port()
    procs = []
    try:
        backend = subprocess.Popen(
            [PYTHON, "manage.py", "echo_backend", "--host", "127.0.0.1", "--port", str(backend_port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(backend)
        wait_port(backend_port)
        builtin = services.ensure_builtin_gateway()
        api = services.create_api(
            display_name="Bench",
            backend_url=f"ws://127.0.0.1:{backend_port}",
            url_suffix="bench",
            gateways=[builtin],
            idle_timeout_seconds=0,
        )
        product = services.create_product(
            display_name="Bench", state=Product.State.PUBLISHED, apis=[api]
        )
        key = services.create_subscription(display_name="b", product=product).primary_key
        log_path = Path("/tmp") / f"bench-messages-gateway-{os.getpid()}.log"
        with open(log_path, "w") as log_file:
            gateway = subprocess.Popen(
                [PYTHON, "manage.py", "run_gateway", "--port", str(gateway_port), "--workers", "2"],
                cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"}, stdout=log_file, stderr=subprocess.STDOUT,
            )  # fmt: skip
        procs.append(gateway)
        wait_port(gateway_port)
        time.sleep(3)  # both workers loaded their catalog
        workers = children_of(gateway.pid) or [gateway.pid]
        url = f"ws://127.0.0.1:{gateway_port}/bench?subscription-key={key}"
        figures: dict = {}
        sizes = [1_000] if args.quick else [1_000, 10_000]
        if args.sizes:
            sizes = [int(n) for n in args.sizes.split(",")]
        sends = 200 if args.quick else args.sends
        total = 0
        clients = None
        for size in sizes:
            if clients is not None:
                clients.stop()
                time.sleep(12)  # the closed ones leave the live list
            clients = Clients(url, size, env)
            rows = live_rows(size)
            total = len(rows)
            idle0, idle_started = cpu_seconds(workers), time.monotonic()
            time.sleep(5)  # the workers' own CPU while nothing is sent (reports, keep-alive)
            idle_rate = (cpu_seconds(workers) - idle0) / (time.monotonic() - idle_started)
            figures[f"idle_cpu_pct_{size}"] = idle_rate * 100
            if size == sizes[0]:
                latencies, calls = [], []
                send_started = time.monotonic()
                cpu0 = cpu_seconds(workers)
                for n in range(sends):
                    row = rows[n % len(rows)]
                    text = f"send-{n}"
                    started = time.monotonic()
                    outcome = delivery.deliver([row], text=text, data=None)[row.connection_id]
                    calls.append(time.monotonic() - started)
                    assert outcome == "delivered", outcome
                    [got] = clients.read_until(1, text, 5)
                    latencies.append(got - started)
                cpu = cpu_seconds(workers) - cpu0 - idle_rate * (time.monotonic() - send_started)
                figures["send"] = {
                    "n": sends,
                    "latency_p50_ms": percentile(latencies, 50) * 1000,
                    "latency_p99_ms": percentile(latencies, 99) * 1000,
                    "deliver_p50_ms": percentile(calls, 50) * 1000,
                    "deliver_p99_ms": percentile(calls, 99) * 1000,
                    "gateway_cpu_us_per_message": cpu / sends * 1e6,
                }
            runs = []
            for attempt in range(args.attempts):
                text = f"all-{size}-{attempt}"
                cpu0 = cpu_seconds(workers)
                started = time.monotonic()
                results = delivery.deliver(rows, text=text, data=None)
                answered = time.monotonic() - started
                delivered = sum(1 for o in results.values() if o == "delivered")
                outcomes = sorted({o for o in results.values() if o != "delivered"})
                times = clients.read_until(delivered, text, 30)
                cpu = cpu_seconds(workers) - cpu0 - idle_rate * (time.monotonic() - started)
                runs.append(
                    {
                        "matched": len(rows),
                        "delivered": delivered,
                        "answered_s": answered,
                        "last_received_s": (max(times) - started) if times else None,
                        "received": len(times),
                        "gateway_cpu_us_per_message": cpu / max(1, delivered) * 1e6,
                        "other_outcomes": outcomes,
                    }
                )
            figures[f"broadcast_{size}"] = runs
        clients.stop()
        print(json.dumps({"connections": total, "workers": len(workers), **figures}, indent=2))
        print_table(figures)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def print_table(figures: dict) -> None:
    s = figures["send"]
    print("\nIssue 25 figures (two-worker managed node, Redis pub/sub; CPU net of the idle rate):")
    print(
        f"  send latency to the client   p50 {s['latency_p50_ms']:.1f} ms  p99 {s['latency_p99_ms']:.1f} ms  (target p99 <= 1000 ms)"
    )  # noqa: E501
    print(
        f"  deliver() until the answer   p50 {s['deliver_p50_ms']:.1f} ms  p99 {s['deliver_p99_ms']:.1f} ms"
    )  # noqa: E501
    print(f"  gateway CPU per sent message {s['gateway_cpu_us_per_message']:.0f} us")
    for name, runs in figures.items():
        if not name.startswith("broadcast_"):
            continue
        answered = statistics.median(r["answered_s"] for r in runs)
        last = statistics.median(r["last_received_s"] or 0 for r in runs)
        cpu = statistics.median(r["gateway_cpu_us_per_message"] for r in runs)
        got = min(r["delivered"] for r in runs)
        fails = sorted({o for r in runs for o in r["other_outcomes"]})
        print(
            f"  broadcast to {runs[0]['matched']:>6,}: answered {answered:.2f} s, last client "
            f"{last:.2f} s, delivered >= {got:,}, gateway CPU {cpu:.1f} us per message (median of {len(runs)})"
            + (f"; other outcomes: {', '.join(fails)}" if fails else "")
        )


if __name__ == "__main__":
    main()
