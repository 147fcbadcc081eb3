"""One timer per event loop for every tunnel's idle timeout, maximum duration and keep-alive.

A timer per connection costs a heap entry and a callback per connection and interval; here
each tunnel sits in the slot of its next deadline (slots of `RESOLUTION` seconds), and a single
callback, running only while some tunnel waits, visits the slots that came due. An item's
`tick(now)` returns its next deadline (or None when it needs no more visits).
"""

import asyncio
import weakref

RESOLUTION = 0.25  # seconds: deadlines are met within this

_wheels: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Wheel]" = weakref.WeakKeyDictionary()


class Wheel:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.slots: dict[int, set] = {}
        self.where: dict[object, int] = {}
        self.handle: asyncio.TimerHandle | None = None

    def add(self, item, when: float) -> None:
        self.discard(item)
        slot = int(when / RESOLUTION) + 1  # never early
        self.slots.setdefault(slot, set()).add(item)
        self.where[item] = slot
        if self.handle is None:
            self.handle = self.loop.call_later(RESOLUTION, self._tick)

    def discard(self, item) -> None:
        slot = self.where.pop(item, None)
        if slot is not None:
            items = self.slots.get(slot)
            if items is not None:
                items.discard(item)
                if not items:
                    del self.slots[slot]

    def _tick(self) -> None:
        self.handle = None
        now = self.loop.time()
        current = int(now / RESOLUTION)
        for slot in sorted(s for s in self.slots if s <= current):
            for item in self.slots.pop(slot, ()):
                del self.where[item]
                due = item.tick(now)
                if due is not None:
                    self.add(item, max(due, now))
        if self.slots and self.handle is None:
            self.handle = self.loop.call_later(RESOLUTION, self._tick)


def wheel() -> Wheel:
    loop = asyncio.get_running_loop()
    found = _wheels.get(loop)
    if found is None:
        found = _wheels[loop] = Wheel(loop)
    return found
