"""Counter limiters with a time bound: a slow or unreachable store raises CountersUnavailable.

rate-limit and quota keep their counters in `limits` storages (memory or Redis). Each call
to Redis through these wrappers is bounded by the runtime's counter timeout (the store's time,
not the time the gateway's own loop was busy: store_deadline.py), and any storage failure
(refused connection, timeout, Redis error) becomes `CountersUnavailable`, which the pipeline
turns into a 503 or, when the installation fails open, lets the handshake through uncounted.
With `memory://` the limiter is `limits`' synchronous one over `LocalStorage`, called straight
from the loop: it answers within the call, so there is nothing to bound and nothing to wait for.
"""

from __future__ import annotations

import time
from typing import Any

from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.util import WindowStats

from .store_deadline import store_deadline


class CountersUnavailable(Exception):
    """The counter store did not answer within the counter timeout, or failed."""


COUNTERS_DOWN_MESSAGE = "The gateway cannot reach its rate-limit counters. Try again shortly."

# Redis storages are built with wrap_exceptions, so their errors arrive as StorageError.
_FAILURES = (StorageError, OSError, TimeoutError)


SWEEP_SECONDS = 1.0  # how often expired in-memory counter entries are dropped, at most


class _SweptByHits:
    """Stands in for limits' expiry timer thread (`MemoryStorage.timer`): always "alive", so the
    storage never starts one; `LocalStorage.sweep` does that work from the hits instead."""

    __slots__ = ()

    def is_alive(self) -> bool:
        return True

    def cancel(self) -> None:
        pass


class LocalStorage(MemoryStorage):
    """limits' in-process storage, its expired entries dropped by a hit at most once a second
    instead of by a new timer thread 10 ms after a hit: starting those threads cost ~0.2 ms of
    CPU each, about 2 % of a core under a steady stream of handshakes (bench/counters_micro.py).
    Expiry only frees memory: limits' moving and fixed windows judge each hit by the entries'
    own times. All of it runs on the gateway's loop thread."""

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()  # the one limits starts in __init__
        self.timer = _SweptByHits()  # type: ignore[assignment]
        self.next_sweep = 0.0

    def sweep(self) -> None:
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
            # limits' sync expiry empties a key's list but keeps the key: one list per counter
            # key ever seen (per client address, say) would pile up.
            for key in [key for key, entries in self.events.items() if not entries]:
                del self.events[key]


class BoundedLimiter:
    """The part of a `limits` strategy the policies use: an async one (Redis) with each call
    bounded in time, or a sync one over process memory, called directly."""

    __slots__ = ("limiter", "timeout", "local")

    def __init__(self, limiter: Any, timeout: float) -> None:
        self.limiter = limiter
        self.timeout = timeout
        # memory:// answers within the call: no timer to arm, no await. (limits' async memory
        # storage cost a handshake far more: its expiry task holds the key's asyncio lock across
        # a thread-pool hop, so most hits waited for a thread; bench/counters_micro.py.)
        storage = getattr(limiter, "storage", None)
        self.local = storage if isinstance(storage, LocalStorage) else None

    async def hit(self, item: Any, *identifiers: str, cost: int = 1) -> bool:
        local = self.local
        if local is not None:
            local.sweep()
            return bool(self.limiter.hit(item, *identifiers, cost=cost))
        try:
            async with store_deadline(self.timeout):
                return await self.limiter.hit(item, *identifiers, cost=cost)
        except _FAILURES as exc:
            raise CountersUnavailable(describe(exc)) from None

    async def get_window_stats(self, item: Any, *identifiers: str) -> WindowStats:
        """The window's state; if the store fails now, a conservative guess (no calls left, a
        whole period to wait), so a refusal the hit already decided stands even when failing
        open."""
        if self.local is not None:
            return self.limiter.get_window_stats(item, *identifiers)  # type: ignore[no-any-return]
        try:
            async with store_deadline(self.timeout):
                return await self.limiter.get_window_stats(item, *identifiers)
        except _FAILURES:
            return WindowStats(time.time() + item.get_expiry(), 0)


def describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "counter store did not answer in time"
    return f"counter store failed: {type(exc).__name__}: {exc}"[:200]
