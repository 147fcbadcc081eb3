"""Where a gateway's CPU per handshake goes: cProfile of one real gateway process under a bounded
loop of real handshakes (the benchmark's Node client, 8 parallel connect+close loops, key only).

Run: .venv/bin/python bench/handshake_profile.py [--handshakes 3000] [--suffix echo] [--top 30]
[--otlp] (tracing on: exports to a local OTLP sink; OTEL_TRACES_SAMPLER etc. pass through)
[--plain] (no profiler: the real CPU per handshake by thread) [--perf] (perf record instead)
Only the measured handshakes are profiled; the cyclic collector's CPU in that window is printed.
Prints the top functions by own time and by cumulative time, then the parts of a handshake
(bench/handshake_parts.py); asserts nothing. The profiler times CPU (process_time), not wall
time, so a shared machine's preemption and the idle loop's waits do not count; it inflates Python
calls several times more than C work (5-8x the gateway's CPU per handshake here), so read the
shares, not the times.
"""

from __future__ import annotations

import argparse
import pstats
import signal

import handshake_parts  # bench/handshake_parts.py
import run as harness  # bench/run.py (the script's folder is on sys.path)
import tracing as bench_tracing  # bench/tracing.py: the OTLP sink
from profile_setup import profiled_gateway

# Runs manage.py with a CPU-clock cProfile ("profile") or none ("plain") that records only
# between SIGUSR1 (on) and SIGUSR2 (off): the measured handshakes, not start-up, imports or the
# first handshakes' one-off work. The cyclic collector's CPU time in that window (cProfile does
# not see it: it lands in whatever function allocated) goes to stderr, the profile to a file.
LAUNCHER = """
import cProfile, gc, os, runpy, signal, subprocess, sys, time
mode, out, sys.argv = sys.argv[1], sys.argv[2], sys.argv[3:]
profile = cProfile.Profile(time.process_time)
gc_time, gc_runs, started, on, perf = [0.0, 0.0, 0.0], [0, 0, 0], [0.0], [False], []
def collecting(phase, info):
    if not on[0]:
        return
    if phase == "start":
        started[0] = time.process_time()
    else:
        gc_time[info["generation"]] += time.process_time() - started[0]
        gc_runs[info["generation"]] += 1
gc.callbacks.append(collecting)
def begin(*_):
    on[0] = True
    if mode == "profile":
        profile.enable()
    if mode == "perf":
        command = ["perf", "record", "-q", "-F", "2000", "-g", "-p", str(os.getpid()), "-o", out]
        perf.append(subprocess.Popen(command))
def end(*_):
    profile.disable()
    for p in perf:
        p.send_signal(signal.SIGINT)
        p.wait()
    on[0] = False
    ms = ", ".join(f"gen{g} {gc_runs[g]} runs {gc_time[g] * 1000:.1f} ms" for g in range(3))
    print("GC in the measured window (CPU):", ms, file=sys.stderr, flush=True)
signal.signal(signal.SIGUSR1, begin)
signal.signal(signal.SIGUSR2, end)
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    if mode == "profile":
        profile.dump_stats(out)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=3000, help="at most this many")
    parser.add_argument("--suffix", default="echo", help="API: echo (key only) or guarded")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--otlp", action="store_true", help="tracing on, to a local OTLP sink")
    parser.add_argument(
        "--perf", action="store_true", help="perf record instead (its file: see the end)"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="no profiler: only the real CPU per handshake by thread",
    )
    args = parser.parse_args()
    sink = bench_tracing.OtlpSink() if args.otlp else None
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint} if sink is not None else {}
    with profiled_gateway("portico-hsprof-", env=env) as setup:
        tmp, port, info = setup.tmp, setup.port, setup.info
        out = tmp / "handshake.prof"
        mode = "plain" if args.plain else "perf" if args.perf else "profile"
        gateway = setup.start(["-c", LAUNCHER, mode, str(out)])
        extra = ""
        if args.suffix == "guarded":
            extra = f"&access_token={harness.bench_policies.token()}"
        url = f"ws://127.0.0.1:{port}/{args.suffix}?subscription-key={info['primary_key']}{extra}"
        client = {"mode": "handshake", "url": url, "concurrency": 8, "pids": [gateway.pid]}
        # Unprofiled first handshakes: imports and caches that every later one reuses.
        harness.run_client(
            {**client, "warmup": 0, "duration": 5.0, "max_handshakes": 300}, timeout=60
        )
        before = bench_tracing.thread_cpu_ms(gateway.pid)
        gateway.send_signal(signal.SIGUSR1)
        result = harness.run_client(
            {**client, "warmup": 0, "duration": 60.0, "max_handshakes": args.handshakes},
            timeout=120,
        )
        gateway.send_signal(signal.SIGUSR2)
        done = result.get("handshakes") or 0
        cpu_ms = result.get("cpu_ms_by_pid", {}).get(str(gateway.pid), 0.0)
        print(f"handshakes measured: {done}, errors: {result.get('errors')}", end="")
        print(f", gateway CPU ms/handshake under the profiler: {cpu_ms / max(1, done):.2f}")
        # cProfile sees only the main thread: the other threads' CPU (the span exporter's) is
        # read from /proc, unprofiled.
        after = bench_tracing.thread_cpu_ms(gateway.pid)
        main_ms, other_ms = after[0] - before[0], after[1] - before[1]
        profiled = "" if args.plain else " (profiled)"
        print(f"gateway CPU ms/handshake by thread: main {main_ms / max(1, done):.3f}{profiled},")
        print(f"  other threads {other_ms / max(1, done):.3f} (not profiled)")
        if sink is not None:
            print(f"OTLP exports: {sink.requests}, {sink.bytes / max(1, done):.0f} B/handshake")
        gateway.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly; cProfile then writes
        gateway.wait(30)
        gc_line = [x for x in (tmp / "gateway.log").read_text().splitlines() if "GC in the" in x]
        print(*gc_line[-1:])
        if args.perf:
            print(f"perf report -i {out} --no-children --sort dso,sym")
        if args.plain or args.perf:
            return
        stats = pstats.Stats(str(out))
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        # By part of the handshake; compare with another run: bench/handshake_parts.py A B.
        print(f"profile: {out}")
        handshake_parts.main([str(out)])


if __name__ == "__main__":
    main()
