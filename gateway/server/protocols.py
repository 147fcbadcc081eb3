"""Uvicorn's HTTP and WebSocket protocols with the time bounds a gateway facing the internet needs.

- A request whose headers are not complete within PORTICO_HANDSHAKE_TIMEOUT_SECONDS is cut
  (uvicorn has no read timeout before the first response: half-sent requests were held forever).
- An over-long handshake (a header line or request line over 8 KiB, more than 128 headers) gets
  the 431/414 that websockets' parser queues; uvicorn's websockets-sansio never sent it.
- A connection whose peer stops reading cannot hold its socket: after the app has finished,
  after our close frame, or after a keep-alive timeout, the transport is aborted once the close
  grace (PORTICO_CLOSE_GRACE_SECONDS) has passed. uvicorn only close()s, which waits for a write
  buffer that a non-reading peer never drains.
- The app may drop the client at once by sending `{"type": "portico.abort"}`; the extension is
  advertised in the scope, so the relay only uses it where the server offers it.
- After `websocket.accept` the app may take the raw transport (`portico.tunnel` in the scope's
  extensions: `take(protocol)` hands the connection to `protocol` and returns the transport and
  a `release(exc)` to call when it is done with it) unless uvicorn already read bytes past the
  handshake. The tunnel then owns keep-alive and closing; shutdown is passed on to it. The app
  may return while the tunnel runs: the server's set of connections holds a small stand-in, so
  this protocol, its task and the scope are not kept for the life of an idle connection.
- The WebSocket handshake request is handed to websockets as the Request httptools already
  parsed (uvicorn serializes it again for websockets to parse with a regex per header line);
  requests near websockets' limits (line length, header count) or with a body header still
  take uvicorn's path, so websockets answers them as before.
- A keep-alive ping queued behind data a slow client is still taking is not a timeout: while the
  client's TCP keeps acknowledging new bytes, the pong deadline is extended (a client that stops
  reading stops acknowledging, and times out as before).
"""

import asyncio
import fcntl
import logging
import socket
import ssl
import struct

from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.http11 import Request
from websockets.protocol import Protocol

from gateway.relay.framed import ABORT_EXTENSION, TUNNEL_EXTENSION
from gateway.server.tcpreset import reset

log = logging.getLogger("portico.gateway")


class GatewayHttpProtocol(HttpToolsProtocol):
    """httptools' protocol with a read timeout on each request's head (the handshake)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = self.config.gateway.handshake_timeout_seconds
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def handle_websocket_upgrade(self) -> None:
        self._stop_head_timer()
        request = None
        if issubclass(self.ws_protocol_class, GatewayWebSocketProtocol):
            request = parsed_request(self.scope, self.url)
        if request is None:
            super().handle_websocket_upgrade()
            return
        # uvicorn's own, except that the request is passed as parsed, not as bytes.
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = "{}:{} - ".format(*self.client) if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%sUpgrading to WebSocket", prefix)
        self.connections.discard(self)
        protocol = self.ws_protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        protocol.request_received(request)
        self.transport.set_protocol(protocol)

    def _start_head_timer(self) -> None:
        if self.head_timer is None and self.head_timeout > 0:
            self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport is not None and not self.transport.is_closing():
            log.debug("request head not complete within %.1f s: closing", self.head_timeout)
            self.transport.close()


# websockets' parser limits (a line of 8 KiB, 128 headers), with room: nearer them, websockets
# parses the request itself and answers 414/431 as before.
_MAX_LINE = 8000
_MAX_HEADERS = 120


def parsed_request(scope: dict, url: bytes) -> Request | None:
    """The Request websockets' parser would build from what httptools parsed, or None where
    only websockets' own parsing gives the same answer (limits, a body, non-ASCII)."""
    raw = scope["headers"]
    if (
        len(url) > _MAX_LINE
        or len(raw) > _MAX_HEADERS
        or scope.get("http_version") != "1.1"
        or not url.isascii()
    ):
        return None
    pairs = []
    for name, value in raw:
        if len(name) + len(value) > _MAX_LINE or name in (b"transfer-encoding", b"content-length"):
            return None
        pairs.append((name.decode("ascii"), value.decode("iso-8859-1")))
    return Request(url.decode("ascii"), Headers(pairs), method=scope["method"])


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol: answers over-long handshakes, never pins a socket."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.close_grace = self.config.gateway.close_grace_seconds
        self.abort_timer: asyncio.TimerHandle | None = None
        self.acked_mark = 0  # the client's acknowledged bytes when we last judged its liveness
        self.early_bytes = False  # bytes after the request head: uvicorn parsed frames already
        self.tunnel = None  # the protocol the transport was handed to

    def data_received(self, data: bytes) -> None:
        fresh = not self.handshake_initiated
        if not fresh:
            self.early_bytes = True
        super().data_received(data)
        if fresh and self.handshake_initiated and not data.endswith(b"\r\n\r\n"):
            self.early_bytes = True  # the client sent frames before our 101 (allowed, rare)
        if not self.handshake_initiated and self.conn.handshake_exc is not None:
            # The parser refused the request (431/414, or EOF for one it could not read) and
            # queued its answer; uvicorn never sends it, so the client would wait forever.
            for chunk in self.conn.data_to_send():
                if chunk:
                    self.transport.write(chunk)
            self.handshake_initiated = self.handshake_complete = self.close_sent = True
            self.transport.close()
            self._abort_later()

    def request_received(self, request: Request) -> None:
        """The handshake request, parsed already: what `data_received` does with its bytes."""
        conn = self.conn
        # ServerProtocol's parser continues with the base parser (frames) after the request.
        conn.parser = Protocol.parse(conn)
        next(conn.parser)
        if conn.debug:
            conn.logger.debug("< %s %s %s", request.method, request.path, request.protocol)
            for key, value in request.headers.raw_items():
                conn.logger.debug("< %s: %s", key, value)
        self.handle_connect(request)

    def send_receive_event_to_app(self) -> None:
        # uvicorn's own, except that a text message that is not UTF-8 closes 1007 without an
        # ERROR traceback (the gateway logs one INFO line with the correlation id instead).
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.conn.send_close(1007, "invalid UTF-8")
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            ssl_object = self.transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                scope["extensions"]["tls"] = tls_extension(ssl_object)
            scope["extensions"][ABORT_EXTENSION] = {}
            scope["extensions"][TUNNEL_EXTENSION] = {"take": self.hand_over}

    def hand_over(self, protocol):
        """Give the accepted connection's transport to `protocol`: (transport, release), or None
        where uvicorn holds anything of the client's already (then it stays the framed relay)."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.early_bytes
            or self.frames
            or not self.queue.empty()
            or self.conn.reader.buffer
            or self.transport.is_closing()
        ):
            return None
        self.stop_keepalive()
        self.tunnel = protocol
        self.transport.set_protocol(protocol)
        # The parser, the handshake, the receive queue and the write flag are not used any more
        # (about 5 KiB): an idle tunnel holds only what it needs.
        self.conn = self.request = self.response = self.queue = self.writable = None
        # The server's bookkeeping holds a small stand-in instead of this protocol, and the
        # scope no longer leads here, so once the app returns (the tunnel runs without a task)
        # this protocol, its ASGI task and the scope go (about 6 KiB per idle connection).
        stand_in = TunnelledConnection(protocol, self.connections)
        self.connections.discard(self)
        self.connections.add(stand_in)
        self.scope["extensions"].pop(TUNNEL_EXTENSION, None)
        return self.transport, stand_in.lost

    def shutdown(self) -> None:
        if self.tunnel is not None:
            self.tunnel.shutdown()
            return
        super().shutdown()

    def connection_lost(self, exc) -> None:
        if self.abort_timer is not None:
            self.abort_timer.cancel()
            self.abort_timer = None
        if self.tunnel is not None:
            # The tunnel's client leg reports it: only the server's bookkeeping is left to do.
            self.connections.discard(self)
            self.handshake_complete = self.disconnected = True
            return
        super().connection_lost(exc)

    async def send(self, message) -> None:
        if message["type"] == ABORT_EXTENSION:
            self._abort()
            return
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # uvicorn waits 10 s for the peer's close frame and then only close()s.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_grace, self._abort)

    async def run_asgi(self) -> None:
        # uvicorn's own, except that a connection the app handed to a tunnel stays open when
        # the app returns (the tunnel closes it), and one that was not is dropped if its peer
        # does not close within the close grace.
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
            if self.tunnel is not None:
                self.transport.close()  # the app failed after the hand-over: nothing else will
                return
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.tunnel is not None:
            return
        if self.close_timer is None:
            self.transport.close()
        self._abort_later()

    def send_keepalive_ping(self) -> None:
        super().send_keepalive_ping()
        self.acked_mark = bytes_acked(self.transport)

    def keepalive_timeout(self) -> None:
        acked = bytes_acked(self.transport)
        if acked > self.acked_mark and self.transport.get_write_buffer_size() + unsent(
            self.transport
        ):
            # The ping waits behind data the client is still taking: slow, not dead.
            self.acked_mark = acked
            self.pong_timer = self.loop.call_later(self.ping_timeout, self.keepalive_timeout)
            return
        super().keepalive_timeout()
        self._abort_later()

    def _abort_later(self) -> None:
        if not self.disconnected and self.abort_timer is None:
            self.abort_timer = self.loop.call_later(self.close_grace, self._abort)

    def _abort(self) -> None:
        self.abort_timer = None
        if not self.disconnected:
            reset(self.transport)


class TunnelledConnection:
    """What the server's set of connections holds for a connection handed to a tunnel: enough
    to pass a shutdown on and to be discarded when the tunnel is done with it."""

    __slots__ = ("tunnel", "connections")

    def __init__(self, tunnel, connections: set) -> None:
        self.tunnel = tunnel  # the protocol the transport was handed to
        self.connections = connections

    def shutdown(self) -> None:
        self.tunnel.shutdown()

    def lost(self, exc) -> None:
        self.connections.discard(self)


def tls_extension(ssl_object) -> dict:
    """The ASGI TLS extension: the client's certificate (PEM) when it presented one."""
    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    return {"server_cert": None, "client_cert_chain": chain, "tls_version": None}


_TCP_INFO_SIZE = 232
_BYTES_ACKED_OFFSET = 120  # struct tcp_info.tcpi_bytes_acked (Linux >= 4.1)
_SIOCOUTQ = 0x5411  # bytes in the kernel's send queue not yet acknowledged (TIOCOUTQ)


def bytes_acked(transport) -> int:
    """How many bytes the peer's TCP has acknowledged so far (0 where unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
        return struct.unpack_from("Q", info, _BYTES_ACKED_OFFSET)[0]
    except (AttributeError, OSError, struct.error):
        return 0


def unsent(transport) -> int:
    """Bytes still in the kernel's send queue for this connection (0 where unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        raw = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0")
        return struct.unpack("i", raw)[0]
    except (AttributeError, OSError, struct.error):
        return 0
