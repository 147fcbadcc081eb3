"""Micro-benchmark of one rate-limit counter hit in process memory: prints figures, asserts nothing.

Run: .venv/bin/python bench/counters_micro.py [--rate 1000] [--seconds 3]
Compares ways of using the `limits` library's in-memory moving window (the rate-limit policy's
counter with `memory://`): its async storage awaited (what the gateway did before issue 31's
second round), its sync storage called straight from the event loop as it comes, and the same
with its expiry run by the hits at most once a second (gateway/policies/counters.py
`LocalStorage`, what the gateway does now). Paced hits (`--rate` per second on a running loop,
as handshakes arrive) count the CPU of every thread of the process: the async storage's expiry
task takes the key's lock across a thread-pool hop, the plain sync storage starts a
`threading.Timer` thread 10 ms after a hit. Tight hits (no pacing) show the call alone.
Process CPU per hit, with the loop's own idle pacing cost subtracted (medians of interleaved
rounds; the paced figures are noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from limits import RateLimitItemPerSecond  # noqa: E402
from limits.aio.storage import MemoryStorage as AsyncMemoryStorage  # noqa: E402
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMoving  # noqa: E402
from limits.storage import MemoryStorage  # noqa: E402
from limits.strategies import MovingWindowRateLimiter  # noqa: E402

from gateway.policies.counters import BoundedLimiter, LocalStorage  # noqa: E402

ITEM = RateLimitItemPerSecond(100_000_000, 60)  # bench/policies.py's: never refuses


class AsyncAwaited:
    """The gateway's memory:// path before: the async strategy's hit, awaited, no timer."""

    def __init__(self) -> None:
        self.limiter = AsyncMoving(AsyncMemoryStorage())

    async def hit(self, item, *identifiers: str, cost: int = 1) -> bool:
        return await self.limiter.hit(item, *identifiers, cost=cost)


class SyncCalled:
    """limits' sync memory storage as it comes: its expiry in a new timer thread per 10 ms."""

    def __init__(self) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def hit(self, item, *identifiers: str, cost: int = 1) -> bool:
        return self.limiter.hit(item, *identifiers, cost=cost)


def local_limiter() -> BoundedLimiter:
    """The gateway's memory:// limiter now: limits' sync storage, its expiry run by the hits."""
    return BoundedLimiter(MovingWindowRateLimiter(LocalStorage()), 0.3)


Limiter = AsyncAwaited | SyncCalled | BoundedLimiter


async def paced(limiter: Limiter | None, rate: int, seconds: float) -> float:
    """CPU µs per tick of `rate` ticks a second for `seconds`, one hit a tick (None: no hit);
    process CPU, so the storages' own threads count."""
    gap, count = 1.0 / rate, int(rate * seconds)
    started = time.process_time()
    for n in range(count):
        if limiter is not None:
            assert await limiter.hit(ITEM, "bench", str(n % 4))
        await asyncio.sleep(gap)
    return (time.process_time() - started) / count * 1e6


async def tight(limiter: Limiter, count: int) -> float:
    started = time.process_time()
    for n in range(count):
        await limiter.hit(ITEM, "bench", str(n % 4))
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="paced hits per second")
    parser.add_argument("--seconds", type=float, default=3.0, help="per paced run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved; medians printed")
    args = parser.parse_args()
    kinds = {
        "limits async memory, awaited (before)": AsyncAwaited,
        "limits sync memory, expiry threads": SyncCalled,
        "limits sync memory, expiry by hits (now)": local_limiter,
    }
    idle: list[float] = []
    paced_us: dict[str, list[float]] = {label: [] for label in kinds}
    for _ in range(args.rounds):
        idle.append(asyncio.run(paced(None, args.rate, args.seconds)))
        for label, make in kinds.items():
            paced_us[label].append(asyncio.run(paced(make(), args.rate, args.seconds)) - idle[-1])
    print(f"loop pacing alone: {statistics.median(idle):.1f} µs CPU per tick ({args.rate}/s)")
    print(f"{'counter':<44}{'paced µs/hit':>14}{'tight µs/hit':>14}")
    for label, make in kinds.items():
        fast = asyncio.run(tight(make(), 20_000))
        print(f"{label:<44}{statistics.median(paced_us[label]):>14.1f}{fast:>14.1f}")


if __name__ == "__main__":
    main()
