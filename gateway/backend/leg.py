"""The backend leg: websockets' Sans-I/O ClientProtocol on a plain asyncio.Protocol.

The opening handshake is bytes (`gateway.backend.handshake`): the request written, the 101
response checked; only then, and only where frames are parsed here, is a ClientProtocol made
(in the OPEN state). A tunnel never makes one.

The `websockets` asyncio client costs a lock, an async context manager, an assembler and a
queue per message; this leg parses frames in `data_received`, keeps whole messages in a
bounded deque (reading pauses at `max_queue` messages or `max_queue_bytes`, and while it is
paused no pong is expected) and writes frames straight to the transport,
waiting only when the transport asks for backpressure. It offers the part of the
`ClientConnection` interface the relay uses: `recv`, `send`, `close`, `subprotocol`, and
`ConnectionClosed` carrying the close frames received and sent.

For a tunnel, the bytes that follow the handshake stay unparsed in `buffer`, so `detach` can
hand them and the transport to the tunnel; `framed()` turns it into a normal leg (parsing them)
where the tunnel could not be set up.
"""

import asyncio
import collections

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.uri import WebSocketURI

from gateway.backend.handshake import (
    MAX_RESPONSE_HEAD,
    BackendHandshakeError,
    check_response,
    log,
    log_head,
)
from gateway.server.tcpreset import reset


class Pending:
    """The handshake in flight: what was sent and what the answer must say."""

    __slots__ = ("uri", "request", "accept", "subprotocols", "max_size", "tunnel")

    def __init__(self, uri, request, accept, subprotocols, max_size, tunnel):
        self.uri: WebSocketURI = uri
        self.request: bytes = request
        self.accept: bytes = accept
        self.subprotocols: list[str] = subprotocols
        self.max_size: int = max_size
        self.tunnel: bool = tunnel  # leave the frames after it unparsed (detach or framed())


class BackendLeg(asyncio.Protocol):
    """The backend connection: websockets' Sans-I/O ClientProtocol on a plain asyncio.Protocol.

    Per message: one parse in data_received, a deque append, one future only when the reader
    waits; send is a serialize + transport.write with no lock or context manager.
    """

    __slots__ = (  # one per connection: no instance dict
        "protocol",
        "loop",
        "transport",
        "subprotocol",
        "opened",
        "lost",
        "messages",
        "waiter",
        "max_queue",
        "max_queue_bytes",
        "queued_bytes",
        "closing",
        "read_paused",
        "write_paused",
        "drain_waiter",
        "fragments",
        "fragment_text",
        "keepalive",
        "heard",
        "ping_timer",
        "pong_deadline",
        "pending",
        "buffer",
    )

    def __init__(
        self,
        pending: Pending,
        *,
        keepalive: float | None,
        max_queue: int = 16,
        max_queue_bytes: int = 4 * 1024 * 1024,
    ):
        self.protocol: ClientProtocol | None = None  # made once frames are parsed here
        self.pending: Pending | None = pending
        self.buffer = bytearray()  # the response, then the bytes after it until framed/detach
        self.loop = asyncio.get_running_loop()
        self.transport = None
        self.subprotocol = None
        self.opened = self.loop.create_future()
        self.lost = self.loop.create_future()
        self.messages: collections.deque = collections.deque()
        self.waiter: asyncio.Future | None = None
        self.max_queue = max_queue
        # Bytes (characters for text) waiting for the client; reading pauses at the bound.
        self.max_queue_bytes = max_queue_bytes
        self.queued_bytes = 0
        self.closing = False  # we sent our close: later messages are dropped, reading goes on
        self.read_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future | None = None
        self.fragments: list = []
        self.fragment_text = False
        self.keepalive = keepalive
        self.heard = False  # anything received since the last keepalive check
        self.ping_timer = None
        self.pong_deadline = None

    # asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.pending.request)
        log_head(">", self.pending.request)

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        if protocol is None:
            self._handshake_data(data)
            return
        protocol.receive_data(data)
        messages = self.messages
        queued = self.queued_bytes
        try:
            for event in protocol.events_received():
                opcode = event.opcode
                if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                    if event.fin:
                        data = event.data
                        message = data.decode() if opcode is Opcode.TEXT else bytes(data)
                    else:
                        self.fragment_text = opcode is Opcode.TEXT
                        self.fragments = [event.data]
                        continue
                elif opcode is Opcode.CONT:
                    self.fragments.append(event.data)
                    if not event.fin:
                        continue
                    whole = b"".join(self.fragments)
                    self.fragments = []
                    message = whole.decode() if self.fragment_text else whole
                elif opcode is Opcode.PONG:
                    self.pong_deadline_cancel()
                    continue
                else:
                    continue  # ping (answered by the protocol) and close (handled below)
                if not self.closing:  # nobody reads what arrives after our own close
                    messages.append(message)
                    queued += len(message)
        except UnicodeDecodeError:
            # Not a transport failure: the backend broke the protocol. Close it with 1007;
            # the relay tells the client 1014 (bad gateway).
            protocol.fail(1007, "invalid UTF-8 in a text message")
        self.queued_bytes = queued
        self.heard = True
        self.flush()
        if messages:
            self._wake()
            if (
                (len(messages) >= self.max_queue or queued >= self.max_queue_bytes)
                and not self.read_paused
                and not self.closing
            ):
                self.read_paused = True
                self.transport.pause_reading()
                # A pong cannot be read until the client catches up: that is not the backend's
                # fault, so no pong is expected while reading is paused.
                self.pong_deadline_cancel()
        if protocol.state is State.CLOSED or protocol.close_expected():
            self._wake()

    def _handshake_data(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        pending = self.pending
        if pending is None or self.opened.done():
            return  # opened for a tunnel: the bytes wait for detach or framed()
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_RESPONSE_HEAD:
                self.opened.set_exception(BackendHandshakeError("response head too large"))
                self.transport.abort()
            return
        head = bytes(buffer[:end])
        log_head("<", head)
        try:
            self.subprotocol = check_response(head, pending.accept, pending.subprotocols)
        except Exception as exc:  # BackendStatus, BackendHandshakeError
            self.opened.set_exception(exc)
            return
        del buffer[: end + 4]
        self.opened.set_result(None)
        if not pending.tunnel:
            self.framed()

    def eof_received(self) -> None:
        if self.protocol is not None:
            self.protocol.receive_eof()
            self.flush()

    def connection_lost(self, exc) -> None:
        if self.protocol is not None and self.protocol.state is not State.CLOSED:
            self.protocol.receive_eof()
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("backend closed the connection"))
        if not self.lost.done():
            self.lost.set_result(None)
        for timer in (self.ping_timer, self.pong_deadline):
            if timer is not None:
                timer.cancel()
        self._wake()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    # helpers ------------------------------------------------------------------------------
    def flush(self) -> None:
        transport = self.transport
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _closed(self) -> ConnectionClosed:
        protocol = self.protocol
        return ConnectionClosed(
            protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent
        )

    def _ping(self) -> None:
        if self.protocol.state is not State.OPEN:
            return
        if self.read_paused:
            pass  # we are not reading: a pong could not arrive, and the backend is not quiet
        elif not self.heard and self.pong_deadline is None:  # quiet for a whole interval
            self.protocol.send_ping(b"")
            self.flush()
            self.pong_deadline = self.loop.call_later(self.keepalive, self._pong_timeout)
        self.heard = False
        self.ping_timer = self.loop.call_later(self.keepalive, self._ping)

    def pong_deadline_cancel(self) -> None:
        if self.pong_deadline is not None:
            self.pong_deadline.cancel()
            self.pong_deadline = None

    def _pong_timeout(self) -> None:
        self.pong_deadline = None
        if self.protocol.state is State.OPEN:
            self.protocol.fail(1011, "keepalive ping timeout")
            self.flush()
            reset(self.transport)

    # handing over to a tunnel ----------------------------------------------------------------
    def detach(self, protocol: asyncio.Protocol) -> tuple[asyncio.Transport, bytes]:
        """Give the transport to `protocol`: it gets the bytes read after the handshake."""
        for timer in (self.ping_timer, self.pong_deadline):
            if timer is not None:
                timer.cancel()
        self.ping_timer = self.pong_deadline = None
        self.keepalive = None
        leftover = bytes(self.buffer)
        # Its handshake state, buffer and message queue are not needed any more.
        self.pending = self.buffer = self.messages = None
        self.transport.set_protocol(protocol)
        return self.transport, leftover

    def framed(self) -> None:
        """Parse frames here: the bytes read after the handshake, and from now on."""
        pending = self.pending
        if self.protocol is not None or pending is None:
            return
        protocol = ClientProtocol(
            pending.uri, state=State.OPEN, max_size=pending.max_size, logger=log
        )
        protocol.subprotocol = self.subprotocol
        self.protocol = protocol
        self.pending = None
        leftover = bytes(self.buffer)
        self.buffer = None
        if self.keepalive:
            self.ping_timer = self.loop.call_later(self.keepalive, self._ping)
        if self.transport is not None and not self.lost.done():
            self.data_received(leftover)
        else:
            protocol.receive_data(leftover)
            protocol.receive_eof()

    # the interface the relay uses (same as websockets' ClientConnection) ------------------
    async def recv(self):
        messages = self.messages
        while not messages:
            if self.lost.done() or self.protocol.state is not State.OPEN:
                raise self._closed()
            self.waiter = self.loop.create_future()
            await self.waiter
            self.waiter = None
        message = messages.popleft()
        self.queued_bytes -= len(message)
        if (
            self.read_paused
            and len(messages) <= self.max_queue // 4
            and self.queued_bytes <= self.max_queue_bytes // 4
        ):
            self.read_paused = False
            self.heard = True  # the interval we spent paused does not count as quiet
            self.transport.resume_reading()
        return message

    async def send(self, payload) -> None:
        protocol = self.protocol
        if protocol.state is not State.OPEN:
            raise self._closed()
        if type(payload) is str:
            protocol.send_text(payload.encode())
        else:
            protocol.send_binary(payload)
        self.transport.write(b"".join(protocol.data_to_send()))
        if self.write_paused:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter
            if self.lost.done():
                raise self._closed()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.protocol is None:  # opened for a tunnel that was never attached
            self.framed()
        self.closing = True
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self.flush()
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        if not self.lost.done():
            timer = self.loop.call_later(1.0, reset, self.transport)  # bounded closing handshake
            try:
                await asyncio.shield(self.lost)
            finally:
                timer.cancel()
