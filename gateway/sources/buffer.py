"""The buffer between a broker client's callback and one feed: it never makes the client wait,
and when it is full it loses its oldest event and counts it (the feed tells its connections).
"""

import asyncio

from gateway.sources.events import Dropped

CAPACITY = 1024  # events between the broker client and one feed


class FollowBuffer:
    """A bounded FIFO for one subscription; `put` never waits, `get` reports losses first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.queue: asyncio.Queue = asyncio.Queue(capacity)
        self.dropped = 0  # lost since the last `get`

    def put(self, item) -> None:
        """Add `item`; a full buffer loses its oldest event (counted) to make room."""
        while True:
            try:
                self.queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.dropped += 1

    async def get(self):
        """The next item, or `Dropped(n)` first when `n` events were lost before it."""
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            return Dropped(dropped)
        return await self.queue.get()
