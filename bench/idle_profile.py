"""What one idle tunnelled connection holds: tracemalloc and gc counts of a real gateway process
before and after N idle connections (the benchmark's Node client on the `/idle` API).

Run: .venv/bin/python bench/idle_profile.py [--connections 2000] [--frames 8] [--top 25]
Prints RSS growth per connection, the allocation sites that grew (by line and by traceback) and
the object types whose count grew, per connection; with --cpu-seconds S instead, the idle
process's CPU per thread over S seconds and a cProfile (CPU clock) of its main thread over as
long; with --rss-seconds S, the idle process's RSS every 10 s over S seconds of the hold (how
it grows while nothing happens: the minutely full live report). Asserts nothing. tracemalloc's
own bookkeeping inflates the RSS figure: read its per-site bytes, and the benchmark's idle row
for RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pstats
import signal
import time
import tracemalloc
from pathlib import Path

import run as harness  # bench/run.py (the script's folder is on sys.path)
from profile_setup import profiled_gateway

# Runs manage.py; the first SIGUSR1 starts tracemalloc (after start-up and warm-up: tracing
# imports is slow and not what a connection holds), each one writes a snapshot and gc's type
# counts to DIR. SIGUSR2 starts and stops a cProfile of the main thread (CPU clock).
LAUNCHER = """
import collections, gc, json, os, runpy, signal, sys, tracemalloc
out, frames, sys.argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
taken = [0]
def dump(signum, frame):
    if not tracemalloc.is_tracing():
        tracemalloc.start(frames)
    gc.collect()
    taken[0] += 1
    name = os.path.join(out, f"snap{taken[0]}")
    tracemalloc.take_snapshot().dump(name + ".tm")
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    with open(name + ".json", "w") as f:
        json.dump(counts, f)
    open(name + ".done", "w").close()
signal.signal(signal.SIGUSR1, dump)
import cProfile, time
profile, profiling = cProfile.Profile(time.process_time), [False]
def toggle(signum, frame):  # SIGUSR2: start the CPU profile of the main thread; again: write it
    profiling[0] = not profiling[0]
    if profiling[0]:
        profile.enable()
    else:
        profile.disable()
        profile.dump_stats(os.path.join(out, "idle.prof"))
        open(os.path.join(out, "idle.prof.done"), "w").close()
signal.signal(signal.SIGUSR2, toggle)
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def snapshot(gateway, out: Path, number: int, timeout: float = 120) -> tuple:
    gateway.send_signal(signal.SIGUSR1)
    done = out / f"snap{number}.done"
    deadline = time.monotonic() + timeout
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    tm = tracemalloc.Snapshot.load(str(out / f"snap{number}.tm"))
    counts = json.loads((out / f"snap{number}.json").read_text())
    return tm, counts


def thread_ticks(pid: int) -> dict[str, int]:
    """User and system time per thread (clock ticks), keyed "tid name user|system"; the main
    thread's tid is the pid."""
    found: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = (task / "comm").read_text().strip()
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            found[f"{task.name} {name} user"] = int(fields[11])
            found[f"{task.name} {name} system"] = int(fields[12])
    return found


def cpu_profile(gateway, out: Path, args) -> None:
    seconds = args.cpu_seconds
    before, t0 = thread_ticks(gateway.pid), time.monotonic()
    time.sleep(seconds)
    after, t1 = thread_ticks(gateway.pid), time.monotonic()
    total = sum(after.values()) - sum(before.values())
    print(f"idle CPU: {total / (t1 - t0):.2f} % of a core over {t1 - t0:.0f} s; by thread:")
    for name, ticks in sorted(after.items(), key=lambda kv: before.get(kv[0], 0) - kv[1]):
        if ticks - before.get(name, 0):
            print(f"  {(ticks - before.get(name, 0)) / (t1 - t0):6.2f} %  {name}")
    gateway.send_signal(signal.SIGUSR2)
    time.sleep(seconds)
    gateway.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 60
    while not (out / "idle.prof.done").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    stats = pstats.Stats(str(out / "idle.prof"))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


def rss_series(gateway, seconds: float, opened: int) -> None:
    """RSS every 10 s while the connections idle, from /proc (nothing runs in the process)."""
    start = time.monotonic()
    first = None
    while True:
        at = time.monotonic() - start
        rss = harness.rss_kib([gateway.pid])
        first = rss if first is None else first
        print(f"  {at:5.0f} s  RSS {rss / 1024:7.1f} MiB  {(rss - first) / opened:+.2f} KiB/conn")
        if at >= seconds:
            return
        time.sleep(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=8, help="tracemalloc traceback depth")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument(
        "--cpu-seconds",
        type=float,
        default=0,
        help="instead of memory: CPU per thread over this window, then a cProfile of as long",
    )
    parser.add_argument(
        "--rss-seconds",
        type=float,
        default=0,
        help="instead of memory: RSS every 10 s over this long while the connections idle",
    )
    args = parser.parse_args()
    with profiled_gateway("portico-idleprof-", fd_limit=2 * args.connections + 1000) as setup:
        port, info, tmp = setup.port, setup.info, setup.tmp
        gateway = setup.start(["-c", LAUNCHER, str(tmp), str(args.frames)])
        url = f"ws://127.0.0.1:{port}/idle?subscription-key={info['primary_key']}"
        warm = harness.IdleClient({"url": url, "count": 20, "concurrency": 4, "hold_seconds": 60})
        warm.wait_opened(60)
        warm.release()
        time.sleep(1.0)
        rss0 = harness.rss_kib([gateway.pid])
        if not (args.cpu_seconds or args.rss_seconds):
            tm0, counts0 = snapshot(gateway, tmp, 1)
        client = harness.IdleClient(
            {
                "url": url,
                "count": args.connections,
                "concurrency": 32,
                "hold_seconds": 600,
                "max_errors": 200,
                "retry_failed": True,
            }
        )
        try:
            opened = client.wait_opened(900)
            time.sleep(args.settle)
            rss1 = harness.rss_kib([gateway.pid])
            if args.cpu_seconds:
                print(f"client opened: {opened.get('opened')}")
                cpu_profile(gateway, tmp, args)
                return
            if args.rss_seconds:
                print(f"client opened: {opened.get('opened')}; RSS while they idle:")
                rss_series(gateway, args.rss_seconds, opened.get("opened") or 1)
                return
            tm1, counts1 = snapshot(gateway, tmp, 2)
        finally:
            client.release()
        # Per connection the gateway holds: its own count of tunnels (the client's count of
        # opened connections is missing if opening outlasted the wait).
        tunnels = counts1.get("Tunnel", 0) - counts0.get("Tunnel", 0)
        n = tunnels or opened.get("opened") or 1
        print(f"client opened: {opened.get('opened')}; tunnels held: {tunnels}")
        print(f"RSS growth {(rss1 - rss0) / n:.2f} KiB per connection (tracemalloc's own included)")
        traced = sum(s.size_diff for s in tm1.compare_to(tm0, "filename"))
        print(f"traced growth: {traced / n / 1024:.2f} KiB per connection\n")
        print("by line (bytes and blocks per connection):")
        for stat in tm1.compare_to(tm0, "lineno")[: args.top]:
            frame = stat.traceback[0]
            print(
                f"  {stat.size_diff / n:8.1f} B {stat.count_diff / n:6.2f}  "
                f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
            )
        print("\nby traceback (largest first):")
        for stat in tm1.compare_to(tm0, "traceback")[: max(8, args.top // 3)]:
            print(f"  {stat.size_diff / n:8.1f} B {stat.count_diff / n:6.2f} blocks")
            for line in stat.traceback.format()[-2 * args.frames :]:
                print("      " + line.strip()[:150])
        print("\nobject types that grew (per connection):")
        grew = {k: counts1.get(k, 0) - counts0.get(k, 0) for k in counts1}
        for name, diff in sorted(grew.items(), key=lambda kv: -kv[1])[: args.top]:
            if diff / n >= 0.01:
                print(f"  {diff / n:6.2f}  {name}")


if __name__ == "__main__":
    main()
