"""The tunnel: after both handshakes, frames pass between the two transports unparsed.

It keeps every guarantee of the framed relay (`gateway.relay.framed.Relay`), and its interface
(`stats`, `revoke(reason)`, `await run()`): close codes passed both ways and mapped the same way,
the message size limit (1009 to the sender, 1001 to the other side, decided from frame headers
before a payload is forwarded), idle timeout and maximum duration, keep-alive pings to both legs
with pong timeouts, invalid frames (1002, 1007), backpressure (a leg is read only while the other
leg's write buffer is below its high-water mark) and a close grace after which a peer that does
not take (or answer) our close frame is reset. Header-only onMessage policies (size limits, a
per-connection rate limit: `HeaderPlan`) are enforced by the legs with the framed relay's
verdicts. Time limits and keep-alive run on the per-loop
`relay_wheel`, not on timers per connection; `gateway.relay.frames.Leg` reads the frames.
"""

import asyncio
import logging
import os
from functools import lru_cache

from websockets.frames import Close, Frame, Opcode, apply_mask

from gateway.backend.leg import BackendLeg
from gateway.catalog.delivery import DELIVERED, FULL, GONE, TOO_BIG
from gateway.relay import closecodes
from gateway.relay.framed import TUNNEL_EXTENSION
from gateway.relay.frames import PING_PAYLOAD, Leg
from gateway.relay.legs import ClientLeg, ServerLeg
from gateway.relay.wheel import wheel
from gateway.server.tcpinfo import bytes_acked, unsent
from gateway.server.tcpreset import reset

log = logging.getLogger("portico.gateway")

_PING_TO_CLIENT = Frame(Opcode.PING, PING_PAYLOAD).serialize(mask=False)
_MAX_PING_BYTES = len(_PING_TO_CLIENT) + 4  # a masked ping to the backend has a 4-byte key
_PING_HEAD = bytes((0x80 | Opcode.PING, 0x80 | len(PING_PAYLOAD)))  # FIN, masked, 7-bit length
BUSY = "busy"  # `deliver`: the backend is mid-message; try again in a moment


def start_tunnel(scope: dict, backend: BackendLeg, **limits) -> "Tunnel | None":
    """The tunnel for an accepted connection (chosen by `gateway.relay.mode`), or None (the
    backend leg then parses frames again) when the server does not hand its transport over."""
    offer = (scope.get("extensions") or {}).get(TUNNEL_EXTENSION)
    tunnel = Tunnel(**limits)
    taken = offer["take"](tunnel.client) if offer is not None else None
    if taken is None:
        backend.framed()
        return None
    tunnel.attach(taken, backend)
    return tunnel


def ping_to_backend() -> bytes:
    """Our masked keep-alive ping, a fresh key each time: what `Frame.serialize` makes, without
    its objects (one per backend leg and interval, at every idle connection)."""
    key = os.urandom(4)
    return _PING_HEAD + key + apply_mask(PING_PAYLOAD, key)


def close_frame(code: int, reason: str, *, mask: bool) -> bytes:
    """Our close frame: built once per (code, reason); a masked one gets a fresh key each time
    (RFC 6455 5.3), which websockets' Frame.serialize would cost two objects per frame for."""
    head, payload = _close_parts(code, reason)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return bytes((head[0], head[1] | 0x80)) + key + apply_mask(payload, key)


@lru_cache(maxsize=256)
def _close_parts(code: int, reason: str) -> tuple[bytes, bytes]:
    if code == closecodes.NO_STATUS:
        payload = b""
    else:
        # A close frame carries at most 123 bytes of reason.
        reason = reason.encode()[:123].decode(errors="ignore")
        payload = Close(code, reason).serialize()
    frame = Frame(Opcode.CLOSE, payload).serialize(mask=False)
    return frame[:2], payload  # payload <= 125 bytes: a 2-byte header


class TunnelStats:
    """A tunnel's `RelayStats`: the traffic counts are summed from its legs' own plain ints
    (bumped per message without a lookup here) only when read: by the live sessions report, the
    telemetry sampler and the connection's record."""

    __slots__ = (
        "client",
        "backend",
        "delivered",
        "delivered_bytes",
        "messages_dropped",
        "by_policy",
        "closed_by",
        "close_code",
        "close_reason",
    )
    message_samples = ()  # log-messages needs the framed relay: never any here

    def __init__(self, client: Leg, backend: Leg) -> None:
        self.client, self.backend = client, backend
        self.delivered = self.delivered_bytes = 0  # from the control plane to the client
        self.messages_dropped = 0
        self.by_policy = False
        self.closed_by = ""
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def messages_up(self) -> int:
        return self.client.messages

    @property
    def bytes_up(self) -> int:
        return self.client.bytes

    @property
    def messages_down(self) -> int:
        return self.backend.messages + self.delivered

    @property
    def bytes_down(self) -> int:
        return self.backend.bytes + self.delivered_bytes


class Tunnel:
    __slots__ = (  # one per connection: no instance dict
        "stats",
        "loop",
        "client",
        "backend",
        "idle_timeout",
        "max_duration",
        "close_grace",
        "keepalive",
        "done",
        "release",
        "deadline",
        "seen",
        "last_change",
        "ping_due",
        "ended",
        "__weakref__",
    )

    def __init__(
        self,
        *,
        max_message_bytes: int,
        idle_timeout: float,
        max_duration: float,
        close_grace: float,
        keepalive: float,
        plans: tuple = (None, None),
    ) -> None:
        self.loop = asyncio.get_running_loop()
        inbound, outbound = plans  # HeaderPlans (client -> backend, backend -> client) or None
        self.client = ClientLeg(self, limit=max_message_bytes, plan=inbound)
        self.backend = ServerLeg(self, limit=max_message_bytes, plan=outbound)
        self.client.peer, self.backend.peer = self.backend, self.client
        self.stats = TunnelStats(self.client, self.backend)
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.close_grace = close_grace
        self.keepalive = keepalive
        self.done = self.loop.create_future()
        # The server's bookkeeping: called once the client is lost (detached: after `ended`).
        self.release = None
        self.deadline = 0.0
        self.seen = -1
        self.last_change = 0.0
        self.ping_due = 0.0
        self.ended = None  # `run_detached`'s callback

    def attach(self, taken, backend: BackendLeg) -> None:
        self.client.transport, self.release = taken
        self.backend.transport, leftover = backend.detach(self.backend)
        self.client.out = self.backend.transport.write
        self.backend.out = self.client.transport.write
        if leftover:
            self.backend.data_received(leftover)
        if backend.lost.done():
            self.backend.connection_lost(None)

    async def run(self) -> TunnelStats:
        self._arm()
        try:
            await self.done
        except asyncio.CancelledError:
            self.drop(self.client)
            self.drop(self.backend)
            raise
        finally:
            self._disarm()
        return self.stats

    def run_detached(self, ended) -> None:
        """`run` without a task awaiting it: an idle connection then holds no coroutine (nor
        the ASGI call's chain of them). When both legs are lost, `ended(stats)` runs, then the
        server's bookkeeping (`release`), so a server draining at shutdown waits for both."""
        self.ended = ended
        self._arm()
        self.done.add_done_callback(self._finished)

    def _finished(self, _done) -> None:
        self._disarm()
        ended, self.ended = self.ended, None
        try:
            ended(self.stats)
        finally:
            self._release(None)
            self._unlink()

    def _unlink(self) -> None:
        """Both legs are lost and the connection recorded: drop the references that tie the
        tunnel, its legs and their transports into cycles, so reference counting frees them now
        rather than the cyclic collector later (which walks them at every young collection).
        The legs' counts stay readable through `stats`; a lost leg ignores every late call."""
        for leg in (self.client, self.backend):
            leg.tunnel = leg.peer = leg.out = leg.transport = None

    def _arm(self) -> None:
        now = self.loop.time()
        self.last_change = now
        if self.max_duration > 0:
            self.deadline = now + self.max_duration
        if self.keepalive > 0:
            self.ping_due = now + self.keepalive
        due = self._next(now)
        if due is not None and not self.done.done():
            wheel().add(self, due)

    def _disarm(self) -> None:
        wheel().discard(self)
        for leg in (self.client, self.backend):
            if leg.grace is not None:
                leg.grace.cancel()

    def _release(self, exc) -> None:
        release, self.release = self.release, None
        if release is not None:
            release(exc)

    # what peers do (called by the legs) -------------------------------------------------------
    def close_received(self, leg: Leg, code: int, reason: str) -> None:
        if leg.sealed:  # its answer to our close
            if leg.close_sent:
                leg.transport.close()
            return
        peer = leg.peer
        if leg.client:
            self._record("client", code, reason)
            self._close(leg, code, reason)  # the echo
            self._close(peer, closecodes.from_client(code), reason)
        else:
            self._record("backend", code, reason)
            self._close(leg, code, reason)
            self._close(peer, closecodes.from_backend(code), reason)

    def broken(self, leg: Leg, code: int, reason: str) -> None:
        """The peer broke the protocol (1002) or sent text that is not UTF-8 (1007)."""
        leg.close_rcvd = True  # its answer is not waited for: the transport closes after ours
        if leg.sealed:
            if leg.close_sent:
                leg.transport.close()
            return
        if leg.client:
            self._record("client", code, reason)
            self._close(leg, code, reason)
            self._close(leg.peer, closecodes.from_client(code), reason)
        else:
            self._record("gateway", code, reason)
            self._close(leg, code, reason)
            if code == closecodes.INVALID_DATA:
                self._close(leg.peer, closecodes.BAD_GATEWAY, "backend sent invalid data")
            else:
                self._close(leg.peer, closecodes.GOING_AWAY, reason)

    def too_big(self, leg: Leg, size: int) -> None:
        too_big = closecodes.MESSAGE_TOO_BIG
        if leg.client:
            log.info("client message of %d bytes over the %d byte limit", size, leg.limit)
            self._record("gateway", too_big, "message too big")
            self._close(leg, too_big, "message too big")
            self._close(leg.peer, closecodes.GOING_AWAY, "client message too big")
        else:
            self._record("gateway", too_big, "backend message too big")
            self._close(leg, too_big, "message too big")
            self._close(leg.peer, closecodes.GOING_AWAY, "backend message too big")

    def stopped(self, leg: Leg, verdict) -> None:
        """An onMessage policy closes the connection over a message from `leg`: the sender and
        the other side get the verdict's codes, as `Relay._policy_close` sends them."""
        stats = self.stats
        if not stats.closed_by:
            self._record("gateway", verdict.sender_code, verdict.reason)
            stats.by_policy = True
        self._close(leg, verdict.sender_code, verdict.reason)
        self._close(leg.peer, verdict.other_code, verdict.reason)

    def lost(self, leg: Leg, exc) -> None:
        if leg.grace is not None:
            leg.grace.cancel()
            leg.grace = None
        if leg.client and self.ended is None:  # detached: after `ended` (`_finished`)
            self._release(exc)
        peer = leg.peer
        if not leg.close_rcvd and not leg.sealed:
            if leg.client:
                self._record("client", closecodes.ABNORMAL, "")
                self._close(peer, closecodes.from_client(closecodes.ABNORMAL), "")
            else:
                reason = "backend connection lost"
                self._record("backend", closecodes.ABNORMAL, reason)
                self._close(peer, closecodes.BAD_GATEWAY, reason)
        self._closing()
        if peer.pending and leg.need:
            self.drop(peer)  # what waits for the end of the frame in flight never gets it
        if self.client.lost and self.backend.lost and not self.done.done():
            self.done.set_result(None)

    def close_written(self, leg: Leg) -> None:
        leg.close_sent = True
        if leg.close_rcvd:
            leg.transport.close()

    def drop(self, leg: Leg) -> None:
        """Reset a peer that did not take (or answer) our close in time, or cannot get it."""
        leg.grace = None
        if not leg.lost and leg.transport is not None:
            reset(leg.transport)

    # what the gateway decides ------------------------------------------------------------------
    def revoke(self, reason: str) -> None:
        """Access was withdrawn: close the client with 1008 and the backend with 1001, now."""
        self._record("gateway", closecodes.POLICY_VIOLATION, reason)
        self._close(self.client, closecodes.POLICY_VIOLATION, reason)
        self._close(self.backend, closecodes.GOING_AWAY, reason)

    def deliver(self, text: str | None, data: bytes | None) -> str:
        """Write one message from the control plane to the client (gateway.node.mailbox): an
        outcome of gateway.catalog.delivery, or BUSY while the backend's message in flight has
        not ended (a data frame may follow only a whole message; the caller tries again)."""
        client, source = self.client, self.backend
        if client.sealed or client.lost or self.stats.closed_by:
            return GONE
        payload = text.encode() if text is not None else data or b""
        if len(payload) > client.limit:
            return TOO_BIG
        if source.paused:  # the client's write buffer is over its high-water mark
            return FULL
        if source.need or source.message:
            return BUSY
        opcode = Opcode.TEXT if text is not None else Opcode.BINARY
        client.transport.write(Frame(opcode, payload).serialize(mask=False))
        self.stats.delivered += 1
        self.stats.delivered_bytes += len(payload)
        return DELIVERED

    def shutdown(self) -> None:
        """The server is stopping (uvicorn's graceful shutdown): 1012 both ways, as uvicorn does."""
        self._record("gateway", 1012, "server shutting down")
        self._close(self.client, 1012, "")
        self._close(self.backend, 1012, "")

    def _expire(self, why: str) -> None:
        self._record("gateway", closecodes.GOING_AWAY, why)
        self._close(self.client, closecodes.GOING_AWAY, why)
        self._close(self.backend, closecodes.GOING_AWAY, why)

    def _pong_timeout(self, leg: Leg) -> None:
        reason = "keepalive ping timeout"
        self._record("gateway", 1011, reason)
        leg.close_rcvd = True  # not waited for: it did not answer a ping either
        self._close(leg, 1011, reason)
        self._close(leg.peer, closecodes.GOING_AWAY, reason)

    def _record(self, side: str, code: int | None, reason: str) -> None:
        stats = self.stats
        if not stats.closed_by:
            stats.closed_by, stats.close_code, stats.close_reason = side, code, reason

    def _closing(self) -> None:
        self.client.discard = self.backend.discard = True
        self.client.small = self.backend.small = 0  # off the fast path

    def _close(self, leg: Leg, code: int, reason: str) -> None:
        """Send our close frame to `leg` once; it has the close grace to take and answer it."""
        if leg.sealed or leg.lost:
            return
        leg.sealed = True
        self._closing()
        leg.grace = self.loop.call_later(self.close_grace, self.drop, leg)
        leg.inject(close_frame(code, reason, mask=not leg.client), close=True)

    # time limits and keep-alive (visited by the wheel) ------------------------------------------
    def tick(self, now: float) -> float | None:
        if self.client.discard:
            return None  # closing: the close grace bounds what is left
        if self.deadline and now >= self.deadline:
            self._expire("maximum connection duration")
            return None
        if self.idle_timeout > 0:
            total = self.client.messages + self.backend.messages + self.stats.delivered
            if total != self.seen:
                self.seen, self.last_change = total, now
            elif now - self.last_change >= self.idle_timeout:
                self._expire("idle timeout")
                return None
        if self.keepalive > 0 and now >= self.ping_due:
            for leg in (self.client, self.backend):
                if not self._keep_alive(leg):
                    self._pong_timeout(leg)
                    return None
            self.ping_due = now + self.keepalive
        return self._next(now)

    def _next(self, now: float) -> float | None:
        due = [t for t in (self.deadline, self.ping_due) if t]
        if self.idle_timeout > 0:
            due.append(now + max(0.05, self.idle_timeout / 4))
        return min(due) if due else None

    def _keep_alive(self, leg: Leg) -> bool:
        """Ping a leg that was quiet for an interval; False if its last ping went unanswered."""
        if leg.lost or leg.sealed:
            return True
        heard = leg.heard != leg.messages
        leg.heard = leg.messages
        if leg.ping:
            if heard or leg.paused or self._taking(leg):
                return True  # alive: talking, or taking what we send, or not read by us
            return False
        if not heard and not leg.paused:
            leg.ping = True
            # The acknowledged-bytes baseline is a syscall: only worth it behind queued data.
            transport = leg.transport
            leg.acked = bytes_acked(transport) if transport.get_write_buffer_size() else -1
            if leg.client:
                frame = _PING_TO_CLIENT
            else:
                frame = ping_to_backend()
            leg.inject(frame)
        return True

    @staticmethod
    def _taking(leg: Leg) -> bool:
        """A ping queued behind data the peer is still taking: slow, not dead."""
        transport = leg.transport
        acked = bytes_acked(transport)
        if leg.acked < 0:
            # Pinged with nothing in our buffer: only data queued in the kernel before the ping
            # (more than the ping itself unacknowledged) earns an interval to show progress.
            if unsent(transport) > _MAX_PING_BYTES:
                leg.acked = acked
                return True
            return False
        if acked > leg.acked and transport.get_write_buffer_size() + unsent(transport):
            leg.acked = acked
            return True
        return False
