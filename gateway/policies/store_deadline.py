"""Deadlines for counter-store calls that count the store's time, not the time the loop was busy.

A counter call is bounded so that a Redis that is down or stalled answers a quick 503. A plain
`asyncio.timeout` measures wall time on the gateway's own event loop: when that loop is saturated
(thousands of handshakes at once), a reply that Redis sent within a millisecond sits unread while
other callbacks run, the timer fires first and a legitimate handshake is refused. Here a
per-loop meter sums how late the loop runs its timers while any store call is pending, and a
deadline moves back by the lag measured since its call began: the store is refused only after it
had `timeout` of the loop's attention. The loop's lag is forgiven up to `MAX_LOOP_LAG`, so even a
loop stalled for good ends every call.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType

MAX_LOOP_LAG = 10.0  # seconds of loop lag a store call's deadline moves back by, at most
LAG_TICK = 0.02  # seconds between the meter's timers while a store call is pending


class LoopLagMeter:
    """The time one event loop ran its timers late, summed, while any store call is pending."""

    __slots__ = ("_loop", "total", "users", "_due", "_handle")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: the meter is the value of a weak-keyed mapping from that very loop.
        self._loop = weakref.ref(loop)
        self.total = 0.0
        self.users = 0
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        assert loop is not None, "a meter outlived its event loop"
        return loop

    def lag(self) -> float:
        """Lag summed so far, the pending timer's overdue time included."""
        if self._handle is None:
            return self.total
        return self.total + max(0.0, self.loop.time() - self._due)

    def start(self) -> None:
        self.users += 1
        if self._handle is None:
            self._schedule(self.loop.time())

    def stop(self) -> None:
        self.users -= 1
        if self.users == 0 and self._handle is not None:
            self.total = self.lag()
            self._handle.cancel()
            self._handle = None

    def _schedule(self, now: float) -> None:
        self._due = now + LAG_TICK
        self._handle = self.loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        self.total += max(0.0, now - self._due)
        self._schedule(now)


_meters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLagMeter] = (
    weakref.WeakKeyDictionary()
)


def longest_wait(timeout: float) -> float:
    """The longest a store call with this timeout can last once the loop's lag is forgiven: the
    store client's own socket timeouts must not be shorter, or they would refuse first."""
    return timeout + MAX_LOOP_LAG


def lag_meter(loop: asyncio.AbstractEventLoop) -> LoopLagMeter:
    meter = _meters.get(loop)
    if meter is None:
        meter = _meters[loop] = LoopLagMeter(loop)
    return meter


class store_deadline:  # noqa: N801 - used like asyncio.timeout
    """`async with store_deadline(timeout):` raises TimeoutError once the store has had
    `timeout` seconds of the loop's attention without finishing the block."""

    __slots__ = (
        "timeout",
        "_loop",
        "_task",
        "_cancelling",
        "_meter",
        "_started",
        "_lag0",
        "_handle",
    )

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._handle: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> store_deadline:
        loop = self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "store_deadline needs a task"
        self._task = task
        self._cancelling = task.cancelling()
        self._meter = lag_meter(loop)
        self._meter.start()
        self._started = loop.time()
        self._lag0 = self._meter.lag()
        self._handle = loop.call_at(self._started + self.timeout, self._check)
        return self

    def _check(self) -> None:
        forgiven = min(self._meter.lag() - self._lag0, MAX_LOOP_LAG)
        due = self._started + self.timeout + forgiven
        if self._loop.time() < due:
            # The loop was busy for part of the wait: the store gets that time back.
            self._handle = self._loop.call_at(due, self._check)
            return
        self._handle = None
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._meter.stop()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            return
        # The deadline passed and cancelled the task: report it as a timeout, as asyncio.timeout
        # does, unless someone else cancelled the task too.
        if exc_type is asyncio.CancelledError and self._task.uncancel() <= self._cancelling:
            raise TimeoutError("counter store did not answer in time") from exc
