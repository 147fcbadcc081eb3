"""At most N WebSocket handshakes in progress per worker; the rest wait their turn in arrival order.

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
than HOLD_AT_MOST: a backend that is slow to answer delays other APIs' handshakes by that much at
most. A waiting connection keeps reading: its EOF drops it from the queue; bytes it sends early
(frames before our 101) are replayed to the WebSocket protocol after the upgrade.
"""

from __future__ import annotations

import asyncio
import select
from collections import deque

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


class Slot:
    """One handshake's place; `release` is idempotent and lets the next waiting one in."""

    __slots__ = ("gate", "timer")

    def __init__(self, gate: HandshakeGate) -> None:
        self.gate = gate
        self.timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            gate.hold_at_most, self.release
        )

    def release(self) -> None:
        if self.timer is None:
            return
        self.timer.cancel()
        self.timer = None
        self.gate.in_flight -= 1
        self.gate.admit_waiting()


class HandshakeGate:
    """The handshakes one worker has in progress (`in_flight`) and those waiting (FIFO)."""

    __slots__ = ("limit", "hold_at_most", "in_flight", "waiting", "_admitting")

    def __init__(self, limit: int, hold_at_most: float = HOLD_AT_MOST) -> None:
        self.limit = limit
        self.hold_at_most = hold_at_most
        self.in_flight = 0
        self.waiting: deque[GatedHttpProtocol] = deque()
        self._admitting = False

    def try_take(self) -> Slot | None:
        if self.in_flight >= self.limit:
            return None
        self.in_flight += 1
        return Slot(self)

    def admit_waiting(self) -> None:
        if self._admitting:  # a slot released while admitting: the loop below continues
            return
        self._admitting = True
        try:
            while self.waiting and self.in_flight < self.limit:
                protocol = self.waiting.popleft()
                if protocol.waiting:  # not lost while it waited
                    protocol.upgrade_with(self.try_take())
        finally:
            self._admitting = False


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
        slot = self.gate.try_take()
        if slot is None:
            self.waiting = True
            self.gate.waiting.append(self)
            return
        self.upgrade_with(slot)

    def upgrade_with(self, slot: Slot | None) -> None:
        self.waiting = False
        if self.transport.is_closing() or peer_gone(self.transport):
            self.transport.close()
            if slot is not None:
                slot.release()
            return
        super().handle_websocket_upgrade()
        protocol = self.transport.get_protocol()
        if isinstance(protocol, GatedWebSocketProtocol) and not protocol.handshake_complete:
            protocol.slot = slot
        elif slot is not None:
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
