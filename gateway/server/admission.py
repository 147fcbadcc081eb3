"""At most N WebSocket handshakes in progress per worker; one API takes 3/4 while others wait.

Why: in a reconnect storm a worker accepts thousands of connections in one loop turn and works on
all of their handshakes at once, so every one of them finishes late (each client's own timeout
fires first, it retries, and the worker still finishes the work for the client that left). With a
bound, the first ones finish in milliseconds and the rest wait, most of them in the kernel's
accept queue; a waiting client that leaves costs nothing but the read of its EOF.

Clients that gave up are skipped: a storm's clients time out and retry, and the kernel's accept
queue still holds the connections they left, request sent and FIN behind it. Before a handshake
takes a slot, one poll() of its socket tells whether the peer has closed already; if so it is
dropped for the price of that poll instead of a full handshake and a backend connection.

A handshake holds its slot until it is answered (accepted or refused) or lost, and never longer
than HOLD_AT_MOST. One API (the request path's first segment: the gate runs before the catalog
look-up) takes more than three quarters of the slots only while no other API waits, so another
API's handshake waits HOLD_AT_MOST at most for its first slot; and each API waits in its own
queue, the queues served in turn: a flood at a backend that never
answers keeps its own handshakes waiting, not every other API's behind them (with one queue in
arrival order, a handshake to a healthy API waited behind all of the stuck API's, HOLD_AT_MOST
for each slot's worth of them).

A waiting connection keeps reading: its EOF drops it from the queue; bytes it sends early (frames
before our 101) are replayed to the WebSocket protocol after the upgrade.
"""

from __future__ import annotations

import asyncio
import select
from collections import deque
from urllib.parse import unquote_to_bytes

from gateway.server.protocols import GatewayHttpProtocol, GatewayWebSocketProtocol

HOLD_AT_MOST = 1.0  # seconds a handshake keeps its slot at most
EARLY_BYTES_MAX = 64 * 1024  # a waiting client sending more than this before its 101 is cut
PEER_GONE = select.POLLRDHUP | select.POLLHUP | select.POLLERR
ANSWERS = frozenset({"websocket.accept", "websocket.close", "websocket.http.response.start"})


def peer_gone(transport) -> bool:
    """True when the client has closed its side (FIN or RST) already, read or not."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False
    poller = select.poll()
    poller.register(sock.fileno(), PEER_GONE)
    return bool(poller.poll(0))


def api_key(url: bytes) -> bytes:
    """The request target's first path segment: what the gate shares its slots by."""
    path = url.partition(b"?")[0].lstrip(b"/")
    first = path.partition(b"/")[0]
    return unquote_to_bytes(first) if b"%" in first else first


class Slot:
    """One handshake's place; `release` is idempotent and lets the next waiting one in."""

    __slots__ = ("gate", "key", "timer")

    def __init__(self, gate: HandshakeGate, key: bytes) -> None:
        self.gate = gate
        self.key = key
        self.timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            gate.hold_at_most, self.release
        )

    def release(self) -> None:
        if self.timer is None:
            return
        self.timer.cancel()
        self.timer = None
        self.gate.give_back(self.key)


class HandshakeGate:
    """The handshakes one worker has in progress (`in_flight`, `held` per API) and those
    waiting, one FIFO queue per API; `turns` lists the APIs with someone waiting, in turn."""

    __slots__ = (
        "limit",
        "share",
        "hold_at_most",
        "in_flight",
        "held",
        "waiting",
        "turns",
        "admitting",
    )

    def __init__(self, limit: int, hold_at_most: float = HOLD_AT_MOST) -> None:
        self.limit = limit
        # A quarter of the slots (at least one) is kept for other APIs than the busiest while they
        # have handshakes waiting; with no one else waiting an API may use every slot (a storm at
        # one API collapsed in 5 of 8 runs of 20,000 with a fixed 3/4, in 1 of 5 without).
        self.share = max(1, limit - max(1, limit // 4))
        self.hold_at_most = hold_at_most
        self.in_flight = 0
        self.held: dict[bytes, int] = {}
        self.waiting: dict[bytes, deque[GatedHttpProtocol]] = {}
        self.turns: deque[bytes] = deque()
        self.admitting = False

    def try_take(self, key: bytes) -> Slot | None:
        held = self.held.get(key, 0)
        if self.in_flight >= self.limit or key in self.waiting:
            return None
        if held >= self.share and self.waiting:  # past its share only while no other API waits
            return None
        self.in_flight += 1
        self.held[key] = held + 1
        return Slot(self, key)

    def wait(self, key: bytes, protocol: GatedHttpProtocol) -> None:
        queue = self.waiting.get(key)
        if queue is None:
            queue = self.waiting[key] = deque()
            self.turns.append(key)
        queue.append(protocol)

    def give_back(self, key: bytes) -> None:
        self.in_flight -= 1
        held = self.held[key] - 1
        if held:
            self.held[key] = held
        else:
            del self.held[key]
        if self.waiting:
            self.admit_waiting()

    def admit_waiting(self) -> None:
        """Free slots to the APIs in turn, the first live connection of each one's queue; an API
        at its share while others wait keeps its place in the turns for when one of its slots
        frees (alone, it takes every free slot)."""
        if self.admitting:  # a slot released while admitting: the loop below continues
            return
        self.admitting = True
        try:
            skipped = 0  # APIs in a row that are at their share
            while self.turns and self.in_flight < self.limit and skipped < len(self.turns):
                key = self.turns[0]
                queue = self.waiting[key]
                while queue and not queue[0].waiting:  # lost while it waited
                    queue.popleft()
                if not queue:
                    del self.waiting[key]
                    self.turns.popleft()
                    continue
                self.turns.rotate(-1)  # its next one comes after the other APIs' turns
                if self.held.get(key, 0) >= self.share and len(self.turns) > 1:
                    skipped += 1
                    continue
                protocol = queue.popleft()
                if not queue:
                    del self.waiting[key]
                    self.turns.pop()
                skipped = 0
                self.in_flight += 1
                self.held[key] = self.held.get(key, 0) + 1
                protocol.upgrade_with(Slot(self, key))
        finally:
            self.admitting = False


class GatedHttpProtocol(GatewayHttpProtocol):
    """The gateway's HTTP protocol, upgrading to WebSocket only when the gate has a slot."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate: HandshakeGate | None = getattr(self.config, "admission", None)
        self.waiting = False
        self.early = b""

    def handle_websocket_upgrade(self) -> None:
        if self.gate is None:
            super().handle_websocket_upgrade()
            return
        key = api_key(self.url)
        slot = self.gate.try_take(key)
        if slot is None:
            self.waiting = True
            self.gate.wait(key, self)
            return
        self.upgrade_with(slot)

    def upgrade_with(self, slot: Slot) -> None:
        self.waiting = False
        if self.transport.is_closing() or peer_gone(self.transport):
            self.transport.close()
            slot.release()
            return
        super().handle_websocket_upgrade()
        protocol = self.transport.get_protocol()
        if isinstance(protocol, GatedWebSocketProtocol) and not protocol.handshake_complete:
            protocol.slot = slot
        else:
            slot.release()
        if self.early and protocol is not self:
            early, self.early = self.early, b""
            protocol.data_received(early)

    def data_received(self, data: bytes) -> None:
        if not self.waiting:
            super().data_received(data)
            return
        self.early += data
        if len(self.early) > EARLY_BYTES_MAX:
            self.transport.close()

    def connection_lost(self, exc) -> None:
        self.waiting = False  # the gate skips it
        super().connection_lost(exc)


class GatedWebSocketProtocol(GatewayWebSocketProtocol):
    """The gateway's WebSocket protocol, giving its handshake slot back once it answers."""

    slot: Slot | None = None

    async def send(self, message) -> None:
        if self.slot is not None and message["type"] in ANSWERS:
            self.slot.release()
            self.slot = None
        await super().send(message)

    def connection_lost(self, exc) -> None:
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        super().connection_lost(exc)
