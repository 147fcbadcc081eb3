"""The backend leg of an event-source connection: a bounded queue of events for one client.

It offers the framed relay the interface of a WebSocket backend leg (`recv`, `send`, `close`,
`subprotocol`), so keys, policies (onMessage ones too), limits, live connections, revocation,
logs and metrics work as for any API. Its feed offers it each event without waiting; when the
queue is full, the API's overflow action applies: drop the oldest event (counted) or close the
client 1008. A resumed connection first replays what the broker holds after the client's last
id, a page at a time, then takes live events whose ids come after the last one delivered: no
gap, no duplicate.
"""

import asyncio
from collections import deque

from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

from gateway.catalog.eventsource import DROP_OLDEST, EventSource
from gateway.sources.events import BadEventId, Broker, BrokerUnavailable, Event

POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
SERVICE_RESTART = 1012
REPLAY_PAGE = 256  # events asked of the broker per replay round trip


class SourceLeg:
    subprotocol = None  # the client's subprotocols are not the broker's business

    def __init__(
        self, broker: Broker, name: str, source: EventSource, *, resume_after=None
    ) -> None:
        self.broker = broker
        self.name = name  # the stream, subject or topic this connection reads
        self.source = source
        self.queue: deque[Event] = deque()
        self.limit = source.queue
        self.drop_oldest = source.overflow == DROP_OLDEST
        self.dropped = 0  # events dropped for this client: it fell behind, or its feed did
        # The last key delivered (or the client's Last-Event-ID): nothing at or before it is sent.
        self.floor = resume_after
        self.replaying = resume_after is not None
        self.backlog: deque[Event] = deque()
        self.feed = None
        self.waiter: asyncio.Future | None = None
        self.closed: ConnectionClosed | None = None

    # from the feed ----------------------------------------------------------------------------

    def offer(self, event: Event) -> None:
        """Queue an event for the client; never waits."""
        if self.closed is not None:
            return
        queue = self.queue
        if len(queue) >= self.limit:
            if self.replaying:
                queue.popleft()  # the replay reads it from the broker anyway
            elif self.drop_oldest:
                queue.popleft()
                self.dropped += 1
            else:
                self.fail(POLICY_VIOLATION, "client too slow: event queue full")
                return
        queue.append(event)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def missed(self, count: int) -> None:
        """`count` events the feed lost before they reached this connection's queue (the broker
        client's buffer was full): counted with the ones its own overflow dropped."""
        if self.closed is None and not self.replaying:  # a replay reads them from the broker
            self.dropped += count

    def fail(self, code: int, reason: str) -> None:
        """End the connection as if the backend closed with `code` (the relay closes the client)."""
        if self.closed is None:
            self.closed = ConnectionClosed(Close(code, reason), None)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the interface the relay uses -------------------------------------------------------------

    async def recv(self) -> str | bytes:
        envelope = self.source.envelope
        while True:
            if self.closed is not None:
                raise self.closed
            if self.backlog:
                event = self.backlog.popleft()
            elif self.replaying:
                await self._replay_page()
                continue
            elif self.queue:
                event = self.queue.popleft()
                floor = self.floor
                if floor is not None and event.key is not None and event.key <= floor:
                    continue  # replayed already
            else:
                self.waiter = asyncio.get_running_loop().create_future()
                try:
                    await self.waiter
                finally:
                    self.waiter = None
                continue
            if event.key is not None:
                self.floor = event.key
            return event.envelope() if envelope else event.raw

    async def _replay_page(self) -> None:
        try:
            page = await self.broker.replay(self.name, self.floor, REPLAY_PAGE)
        except BrokerUnavailable:
            self.fail(SERVICE_RESTART, "event source lost while replaying; reconnect")
            return
        except BadEventId:
            self.fail(POLICY_VIOLATION, "the Last-Event-ID is not one of this source's ids")
            return
        if page:
            self.backlog.extend(page)
        else:
            self.replaying = False  # caught up: the live queue holds the rest

    async def send(self, payload) -> None:
        """A client message: published where the API's source says, or the connection ends."""
        if self.closed is not None:
            raise self.closed
        target = self.source.publish
        if target is None:
            self.fail(POLICY_VIOLATION, "this API does not take client messages")
            raise self.closed
        try:
            await self.broker.publish(target, payload)
        except BrokerUnavailable:
            self.fail(SERVICE_RESTART, "event source lost; reconnect with Last-Event-ID")
            raise self.closed from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed is None:
            self.closed = ConnectionClosed(None, Close(code, reason))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.feed is not None:
            self.feed.remove(self)
            self.feed = None
