"""Counter limiters with a time bound: a slow or unreachable store raises CountersUnavailable.

rate-limit and quota keep their counters in `limits` storages (memory or Redis). Each call
through these wrappers is bounded by the runtime's counter timeout (the store's time, not the
time the gateway's own loop was busy: store_deadline.py), and any storage failure
(refused connection, timeout, Redis error) becomes `CountersUnavailable`, which the pipeline
turns into a 503 or, when the installation fails open, lets the handshake through uncounted.
"""

from __future__ import annotations

import time
from typing import Any

from limits.aio.storage import MemoryStorage
from limits.errors import StorageError
from limits.util import WindowStats

from .store_deadline import store_deadline


class CountersUnavailable(Exception):
    """The counter store did not answer within the counter timeout, or failed."""


COUNTERS_DOWN_MESSAGE = "The gateway cannot reach its rate-limit counters. Try again shortly."

# Redis storages are built with wrap_exceptions, so their errors arrive as StorageError.
_FAILURES = (StorageError, OSError, TimeoutError)


class BoundedLimiter:
    """The part of a `limits` async strategy the policies use, each call bounded in time."""

    __slots__ = ("limiter", "timeout", "in_memory")

    def __init__(self, limiter: Any, timeout: float) -> None:
        self.limiter = limiter
        self.timeout = timeout
        # memory:// answers without ever waiting: a timer per handshake would bound nothing.
        self.in_memory = isinstance(getattr(limiter, "storage", None), MemoryStorage)

    async def hit(self, item: Any, *identifiers: str, cost: int = 1) -> bool:
        try:
            if self.in_memory:
                return await self.limiter.hit(item, *identifiers, cost=cost)
            async with store_deadline(self.timeout):
                return await self.limiter.hit(item, *identifiers, cost=cost)
        except _FAILURES as exc:
            raise CountersUnavailable(describe(exc)) from None

    async def get_window_stats(self, item: Any, *identifiers: str) -> WindowStats:
        """The window's state; if the store fails now, a conservative guess (no calls left, a
        whole period to wait), so a refusal the hit already decided stands even when failing
        open."""
        try:
            async with store_deadline(self.timeout):
                return await self.limiter.get_window_stats(item, *identifiers)
        except _FAILURES:
            return WindowStats(time.time() + item.get_expiry(), 0)


def describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "counter store did not answer in time"
    return f"counter store failed: {type(exc).__name__}: {exc}"[:200]
