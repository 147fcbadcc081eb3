"""One leg of a tunnel: reads WebSocket frames from its transport and forwards them, as they are,
to the other leg's transport.

Only frame headers are read (opcode, FIN, RSV, mask bit, length); payloads are neither copied
nor unmasked, except the few bytes of close frames and our own pongs, and text, which is checked
for UTF-8 (a client's through an unmasked copy) so a peer's invalid text closes 1007 exactly as
in the framed relay. A client's frames are masked and stay so toward the backend; a backend's are
not and reach the client unchanged: no extension is negotiated on either leg, so RSV bits are a
protocol error. Frames the tunnel injects (close, ping) wait for a frame boundary.

A leg may also enforce its direction's header-only onMessage policies (`HeaderPlan`: size
limits and a per-connection rate limit). The rate is counted at a message's first frame; a
message a policy stops is not forwarded from there on, and its verdict (drop, or close) applies
at its last frame, unless it grows over the API's limit first, as in the framed relay, which
decides on whole messages.
"""

import asyncio
from codecs import utf_8_decode
from time import monotonic

from websockets.frames import EXTERNAL_CLOSE_CODES, Close, apply_mask

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
PING_PAYLOAD = b"portico"  # our keep-alive pings; their pongs go no further
# The codes a peer may send in a close frame below 3000 (websockets' `Close.check`), as ints.
_PEER_CLOSE_CODES = frozenset(int(code) for code in EXTERNAL_CLOSE_CODES)


class Leg(asyncio.Protocol):
    """A tunnel's view of one peer: the frames read from it, and the stream written to it."""

    __slots__ = (
        "tunnel",
        "client",
        "messages",
        "bytes",
        "limit",
        "plan",
        "cap",
        "verdict",
        "counted",
        "window",
        "calls",
        "transport",
        "peer",
        "hold",
        "need",
        "fin",
        "forward",
        "message",
        "size",
        "mask",
        "offset",
        "tail",
        "reading",
        "discard",
        "sealed",
        "pending",
        "close_rcvd",
        "close_sent",
        "lost",
        "heard",
        "paused",
        "ping",
        "acked",
        "grace",
        "small",
        "out",
    )

    def __init__(self, tunnel, *, client: bool, limit: int, plan=None) -> None:
        self.tunnel = tunnel
        self.client = client  # frames read from it are masked; frames written to it are not
        # Messages and payload bytes read from it and forwarded: plain ints on the hot path,
        # read through the tunnel's stats only when someone asks (`TunnelStats`).
        self.messages = 0
        self.bytes = 0
        self.limit = limit  # the API's message size limit
        self.plan = plan  # onMessage policies of this direction (HeaderPlan), or None
        # A message growing over `cap` needs a closer look (`_over`): the smallest size limit,
        # or -1 while a policy holds the message in progress back.
        self.cap = self._resting_cap()
        self.verdict = None  # a policy's verdict on the message in progress
        self.counted = plan is not None and plan.over is not None  # rate-limited: no fast path
        self.window = 0.0  # when the rate limit's window ends; `calls` messages started in it
        self.calls = 0
        self.transport = None
        self.peer: Leg | None = None
        self.hold = b""  # an incomplete frame header (or control frame) read so far
        self.need = 0  # payload bytes of the frame in flight still to come
        self.fin = False  # the frame in flight ends its message
        self.forward = True  # the frame in flight goes to the peer (else it is dropped)
        self.message = 0  # opcode of the message in progress (TEXT or BINARY), 0 between messages
        self.size = 0  # bytes of that message so far
        self.mask = b""  # the text frame in flight's mask key, and how far into its payload we are
        self.offset = 0
        self.tail = b""  # an incomplete UTF-8 sequence at the end of the text read so far
        self.reading = True  # False once it sent its close (or broke the protocol)
        self.discard = False  # the tunnel is closing: only close frames matter now
        self.sealed = False  # our close frame is on its way to this leg: nothing more goes to it
        self.pending: list | None = None  # frames for this leg waiting for a frame boundary
        self.close_rcvd = False
        self.close_sent = False  # our close frame was written to it
        self.lost = False
        # `messages` at the last keep-alive check, or -1: anything else read since then. The fast
        # path leaves it alone (a new message is heard), so a message costs no store for it.
        self.heard = 0
        self.paused = False  # we stopped reading it: its peer's write buffer is full
        self.ping = False  # our ping awaits its pong
        self.acked = 0  # its TCP's acknowledged bytes when we pinged it
        self.grace: asyncio.TimerHandle | None = None
        # Reads shorter than `small` may be one whole small frame (`data_received`'s fast path);
        # 0 while it does not apply: inside a message, something held, closing, rate-limited.
        self.small = 0 if self.counted else self._small()
        self.out = None  # the peer's transport.write

    # asyncio.Protocol ---------------------------------------------------------------------
    # `data_received` is the subclasses' (gateway.relay.legs): `ClientLeg`, `ServerLeg`.

    @property
    def fast(self) -> bool:
        return self.small != 0

    def _small(self) -> int:
        """`small` on the fast path: one past the longest whole frame with a 7-bit length and
        a payload within `cap` (the header is 6 bytes from a client, 2 from a backend)."""
        return (6 if self.client else 2) + min(126, self.cap + 1)

    def _read(self, data: bytes, n: int) -> None:
        """Any read but one whole small data frame between messages: walk its frames."""
        self.heard = -1
        if not self.reading:
            return
        hold = self.hold
        if hold:
            data = hold + data
            n = len(data)
            self.hold = b""
        self._walk(data, n, self.need)
        fast = (
            self.reading
            and not self.counted
            and not self.discard
            and not self.need
            and not self.message
            and not self.hold
        )
        self.small = self._small() if fast else 0

    def _walk(self, data: bytes, n: int, need: int) -> None:
        """Forward the whole frames (and the part of the frame in flight) that `data` holds."""
        peer = self.peer
        pos = 0
        start = 0  # forwarded span: data[start:pos]
        if need:
            if need > n:
                self.need = need - n
                if self.message == TEXT and self.forward and not self._text(data, 0, n, False):
                    return
                if self.forward:
                    peer.transport.write(data)
                return
            self.need = 0
            if self.message == TEXT and self.forward and not self._text(data, 0, need, self.fin):
                return
            pos = need
            if not self.forward:
                start = pos
            self._frame_done()
            if peer.pending:
                if pos > start:
                    peer.transport.write(data[start:pos])
                start = pos
                peer.flush_pending()
        while pos < n:
            if not self.reading:
                break
            if n - pos < 2:
                break
            b0 = data[pos]
            b1 = data[pos + 1]
            length = b1 & 127
            head = 2
            if length > 125:
                if length == 126:
                    head = 4
                    if n - pos < 4:
                        break
                    length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                else:
                    head = 10
                    if n - pos < 10:
                        break
                    length = int.from_bytes(data[pos + 2 : pos + 10], "big")
            if b1 & 128:
                if not self.client:
                    return self._broken(data, start, pos, 1002, "incorrect masking")
                mask_at = pos + head
                head += 4
                if n - pos < head:
                    break
            elif self.client:
                return self._broken(data, start, pos, 1002, "incorrect masking")
            else:
                mask_at = 0
            if b0 & 0x70:
                return self._broken(data, start, pos, 1002, "reserved bits must be 0")
            opcode = b0 & 15
            fin = b0 & 128
            end = pos + head + length
            if opcode >= CLOSE:
                if opcode > PONG or not fin or length > 125:
                    return self._broken(data, start, pos, 1002, "invalid control frame")
                if end > n:
                    break  # held until the whole control frame is here
                if opcode == CLOSE:
                    if pos > start:
                        peer.transport.write(data[start:pos])
                    self._close_frame(data, pos + head, end, mask_at)
                    return
                if (
                    self.discard
                    or peer.sealed
                    or (opcode == PONG and self._our_pong(data, pos + head, end, mask_at))
                ):
                    if pos > start:
                        peer.transport.write(data[start:pos])
                    start = end
                pos = end
                if peer.pending:
                    if pos > start:
                        peer.transport.write(data[start:pos])
                    start = pos
                    peer.flush_pending()
                continue
            if self.discard or peer.sealed:
                forward = False
            else:
                forward = True
                if opcode == CONT:
                    if not self.message:
                        return self._broken(data, start, pos, 1002, "unexpected continuation")
                elif opcode == TEXT or opcode == BINARY:
                    if self.message:
                        return self._broken(data, start, pos, 1002, "expected a continuation")
                    self.message = opcode
                    self.size = 0
                    if self.counted:
                        self._count()
                else:
                    return self._broken(data, start, pos, 1002, f"invalid opcode {opcode}")
                size = self.size + length
                if size > self.cap:
                    if pos > start:
                        peer.transport.write(data[start:pos])
                    start = pos
                    self._over(size, fin)
                    forward = False  # the tunnel is closing, or a policy stopped the message
                else:
                    self.size = size
                    if self.message == TEXT:
                        self.mask = data[mask_at : mask_at + 4] if mask_at else b""
                        self.offset = 0
            if not forward:
                if pos > start:
                    peer.transport.write(data[start:pos])
                start = min(end, n)
            if end > n:
                self.need = end - n
                self.fin = bool(fin)
                self.forward = forward
                if forward and self.message == TEXT and not self._text(data, pos + head, n, False):
                    return
                pos = n
                break
            if (
                forward
                and self.message == TEXT
                and not self._text(data, pos + head, end, bool(fin))
            ):
                return
            pos = end
            if forward and fin:
                self._message_done()
            if peer.pending:
                if pos > start:
                    peer.transport.write(data[start:pos])
                start = pos
                peer.flush_pending()
        if pos < n and self.reading:
            self.hold = data[pos:]
        if pos > start:
            peer.transport.write(data if start == 0 and pos == n else data[start:pos])

    def _resting_cap(self) -> int:
        """`cap` between messages: the smallest of the API's and the policies' size limits."""
        plan = self.plan
        return self.limit if plan is None else min(self.limit, plan.before, plan.after)

    def _count(self) -> None:
        """The rate limit sees a message start (fixed window, as `RateLimitMessages`)."""
        now = monotonic()
        if now >= self.window:
            self.window, self.calls = now + self.plan.period, 1
            return
        self.calls += 1
        if self.calls > self.plan.calls:
            self.verdict = self.plan.over
            self.cap = -1  # every frame of this message goes through `_over`

    def _over(self, size: int, fin: int) -> None:
        """The message in progress reached `size` bytes, over a limit or held back by a policy:
        this frame is not forwarded; the API's limit closes now, a policy at the last frame."""
        if size > self.limit:
            self.tunnel.too_big(self, size)
            return
        plan = self.plan
        verdict = self.verdict
        if size > plan.before or (verdict is None and size > plan.after):
            verdict = self.verdict = plan.too_big
        self.size = size
        self.cap = -1
        if not fin:
            return
        self.message = self.size = 0
        self.verdict = None
        self.cap = self._resting_cap()
        if verdict.action == "drop":
            self.tunnel.stats.messages_dropped += 1
        else:
            self.tunnel.stopped(self, verdict)

    def _frame_done(self) -> None:
        if self.forward and self.fin:
            self._message_done()

    def _message_done(self) -> None:
        self.messages += 1
        self.bytes += self.size
        self.message = 0
        self.size = 0

    def _text(self, data, start: int, end: int, final: bool) -> bool:
        """Whether data[start:end], the next payload bytes of a text message, are UTF-8 so far."""
        chunk = memoryview(data)[start:end]
        mask = self.mask
        if mask:
            offset = self.offset % 4
            chunk = apply_mask(chunk, mask[offset:] + mask[:offset] if offset else mask)
            self.offset += end - start
        tail = self.tail
        if tail:
            chunk = tail + bytes(chunk)
        try:
            used = utf_8_decode(chunk, "strict", final)[1]
        except UnicodeDecodeError:
            self.reading = False
            self.tunnel.broken(self, 1007, "invalid UTF-8")
            return False
        self.tail = bytes(chunk[used:]) if used < len(chunk) else b""
        return True

    def _our_pong(self, data: bytes, start: int, end: int, mask_at: int) -> bool:
        if not self.ping:
            return False
        payload = data[start:end]
        if mask_at:
            payload = apply_mask(payload, data[mask_at : mask_at + 4])
        if payload != PING_PAYLOAD:
            return False
        self.ping = False
        return True

    def _close_frame(self, data: bytes, start: int, end: int, mask_at: int) -> None:
        self.reading = False
        self.close_rcvd = True
        payload = data[start:end]
        if mask_at:
            payload = apply_mask(payload, data[mask_at : mask_at + 4])
        if not payload:
            self.tunnel.close_received(self, 1005, "")
            return
        if len(payload) == 2:  # a code without a reason (most closes): `Close.parse`'s checks
            code = payload[0] << 8 | payload[1]
            if code in _PEER_CLOSE_CODES or 3000 <= code < 5000:
                self.tunnel.close_received(self, code, "")
                return
        try:
            close = Close.parse(payload)
        except UnicodeDecodeError:
            self.tunnel.broken(self, 1007, "invalid UTF-8 in a close reason")
            return
        except Exception:  # noqa: BLE001 - websockets' ProtocolError: a bad code or length
            self.tunnel.broken(self, 1002, "invalid close frame")
            return
        self.tunnel.close_received(self, close.code, close.reason)

    def _broken(self, data: bytes, start: int, pos: int, code: int, reason: str) -> None:
        if pos > start:
            self.peer.transport.write(data[start:pos])
        self.reading = False
        self.tunnel.broken(self, code, reason)

    # writing to this leg ------------------------------------------------------------------
    def inject(self, frame: bytes, *, close: bool = False) -> None:
        """Write a frame of our own to this leg at the next frame boundary of its stream."""
        if self.lost:
            return
        source = self.peer
        if not source.need or not source.forward:  # at a frame boundary of this leg's stream
            self.transport.write(frame)
            if close:
                self.tunnel.close_written(self)
        elif source.lost or not source.reading:
            # The frame in flight will never be finished: no frame can follow it.
            self.tunnel.drop(self)
        else:
            if self.pending is None:
                self.pending = []
            self.pending.append((frame, close))

    def flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        for frame, close in pending or ():
            if self.lost:
                return
            self.transport.write(frame)
            if close:
                self.tunnel.close_written(self)

    def connection_lost(self, exc) -> None:
        self.lost = True
        self.reading = False
        self.small = 0
        self.tunnel.lost(self, exc)

    def shutdown(self) -> None:
        """The server is stopping (the server protocol passes its shutdown on to us)."""
        self.tunnel.shutdown()

    def eof_received(self) -> None:
        return None  # the transport closes; connection_lost follows

    def pause_writing(self) -> None:
        # Our writes to this leg are ahead of it: stop reading what would be written to it.
        peer = self.peer
        if not peer.lost and not peer.paused:
            peer.paused = True
            peer.transport.pause_reading()

    def resume_writing(self) -> None:
        peer = self.peer
        if not peer.lost and peer.paused:
            peer.paused = False
            peer.heard = -1  # the interval spent paused does not count as quiet
            peer.transport.resume_reading()
