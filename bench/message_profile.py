"""Where a gateway's CPU per relayed message goes: one real gateway process (tunnel) under the
benchmark's round trips (Node client, 50 connections x 64 B text), its user and kernel CPU per
relayed message, and optionally its system calls per message (strace -c), a cProfile, or the
instructions per message of uvloop's read callback (the read's bytes, the leg's data_received,
the write to the other socket) under callgrind: counts that stay put on a loaded machine, unlike
times (this machine's perf has no hardware counters).

Run: .venv/bin/python bench/message_profile.py [--seconds 5] [--strace | --cprofile | --callgrind]
Prints figures; asserts nothing. strace and cProfile slow the gateway down several times: read
their counts and shares, not their times. Compare CPU figures only with nginx in the same run
(bench/run.py); on a shared machine absolute times move with the load.
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import signal
import subprocess
import time
from pathlib import Path

import run as harness  # bench/run.py (the script's folder is on sys.path)
from handshake_profile import LAUNCHER
from profile_setup import profiled_gateway


def process_cpu_ms(pid: int) -> float:
    """utime + stime of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def callgrind_total(path: Path) -> int:
    """The instructions counted in one callgrind dump."""
    lines = path.read_text().splitlines()
    return int(next(line for line in lines if line.startswith("totals:")).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--suffix", default="echo", help="API (echo: no onMessage policy)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--strace", action="store_true", help="count system calls per message")
    group.add_argument("--cprofile", action="store_true", help="cProfile (CPU clock) the gateway")
    group.add_argument(
        "--callgrind",
        action="store_true",
        help="instructions per relayed message in uvloop's read callback (valgrind: ~50x slower)",
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--quiet-seconds", type=float, default=5.0, help="background CPU, no connection open"
    )
    args = parser.parse_args()
    with profiled_gateway("portico-msgprof-") as setup:
        port, info, out = setup.port, setup.info, setup.tmp / "messages.prof"
        grind = setup.tmp / "callgrind.out"
        prefix = None
        if args.callgrind:
            # Only inside uvloop's read callback: not start-up, timers or the loop's own turns.
            # The client then has no warm-up, so that every message read is counted, and runs
            # twice (a quarter as long first): each run's handshakes and closes cost the same,
            # so the difference of the two counts over that of their messages is per message.
            prefix = [shutil.which("valgrind") or "valgrind", "--tool=callgrind"]
            prefix += ["--toggle-collect=__pyx_f_6uvloop_4loop___uv_stream_on_read"]
            prefix += ["--collect-atstart=no", f"--callgrind-out-file={grind}"]
        gateway = setup.start(
            ["-c", LAUNCHER, "profile", str(out)] if args.cprofile else [],
            prefix=prefix,
            timeout=900 if args.callgrind else 120,
        )
        print(f"gateway pid {gateway.pid}", flush=True)
        time.sleep(2.0)  # start-up work (first catalog load, first reports) is not background
        before = process_cpu_ms(gateway.pid)
        time.sleep(args.quiet_seconds)
        background = (process_cpu_ms(gateway.pid) - before) / args.quiet_seconds  # ms per s
        tracer = None
        if args.strace:
            # Attached for the whole client run (handshakes included: 50 of them, against
            # tens of thousands of messages); -c counts calls, -f follows every thread.
            tracer = subprocess.Popen(  # noqa: S603 - fixed command, our own child's pid
                [shutil.which("strace") or "strace", "-c", "-f", "-p", str(gateway.pid)],
                stderr=subprocess.PIPE,
                text=True,
            )
        url = f"ws://127.0.0.1:{port}/{args.suffix}?subscription-key={info['primary_key']}"
        config = {
            "mode": "rtt",
            "url": url,
            "connections": args.connections,
            "size": 64,
            "binary": False,
            "warmup": 0.0 if args.callgrind else 1.0,
            "duration": args.seconds,
            "pids": [gateway.pid],
            "max_messages": 50_000_000,
        }
        bound = args.seconds + (600 if args.callgrind else 120)
        if args.callgrind:
            first = harness.run_client({**config, "duration": args.seconds / 4}, timeout=bound)
            control = shutil.which("callgrind_control") or "callgrind_control"
            subprocess.run([control, "-d", str(gateway.pid)], check=True)  # noqa: S603
        if args.cprofile:  # the launcher profiles only between these two signals
            gateway.send_signal(signal.SIGUSR1)
        result = harness.run_client(config, timeout=bound)
        if args.cprofile:
            gateway.send_signal(signal.SIGUSR2)
        relayed = 2 * (result.get("messages") or 0)
        cpu = result.get("cpu_ms_by_pid", {}).get(str(gateway.pid), 0.0)
        user = result.get("user_cpu_ms_by_pid", {}).get(str(gateway.pid), 0.0)
        print(f"relayed messages: {relayed:,}, failures: {result.get('failures')}")
        if relayed:
            print(
                f"gateway CPU us / relayed msg: {cpu * 1e3 / relayed:.2f} "
                f"(user {user * 1e3 / relayed:.2f}, kernel {(cpu - user) * 1e3 / relayed:.2f})"
            )
            per_s = relayed / result["seconds"]
            print(
                f"of which background work (no connection open: {background:.1f} ms CPU/s): "
                f"{background * 1e3 / per_s:.2f} us / relayed msg at {per_s:,.0f} msgs/s"
            )
        if tracer is not None:
            tracer.send_signal(signal.SIGINT)  # strace prints its table when detaching
            _, table = tracer.communicate(timeout=30)
            print("system calls during the client's run (handshakes and warm-up included):")
            print(table)
        gateway.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly; cProfile then writes
        gateway.wait(300 if args.callgrind else 30)
        if args.callgrind and relayed:
            # The first run's dump, then the one at exit (the second run's).
            parts = sorted(setup.tmp.glob(grind.name + "*"), key=lambda path: path.stat().st_mtime)
            ir = [callgrind_total(parts[0]), callgrind_total(parts[-1])]
            sent = [2 * (first.get("messages") or 0), relayed]
            per = (ir[1] - ir[0]) / (sent[1] - sent[0])
            print(
                f"instructions per relayed msg, uvloop's read callback: {per:,.0f} (runs of "
                f"{sent[0]:,} and {sent[1]:,} messages; each run's handshakes and closes: "
                f"{(ir[1] - per * sent[1]) / 1e6:,.1f} M)"
            )
        if args.cprofile:
            stats = pstats.Stats(str(out))
            stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
