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
  handshake. The tunnel then owns keep-alive, closing and shutdown; the app may return while it
  runs (uvicorn's connection set holds a stand-in, not this protocol, its task and the scope).
- A plain upgrade request (what browsers and WebSocket libraries send) is answered by the
  gateway's WebSocket protocol from what httptools parsed (`upgrade.plain_upgrade`): the same
  scope and 101 bytes, without websockets' Request, Headers, accept and Response. Any other goes
  to websockets as the Request httptools parsed, or, near websockets' limits or with a body
  header, takes uvicorn's path, so websockets answers it as before.
- A keep-alive ping queued behind data a slow client is still taking is not a timeout: while the
  client's TCP keeps acknowledging new bytes, the pong deadline is extended (a client that stops
  reading stops acknowledging, and times out as before).
"""

import asyncio
import logging
import ssl
from urllib.parse import unquote

from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_path_with_query_string,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol

from gateway.relay.framed import ABORT_EXTENSION, TUNNEL_EXTENSION
from gateway.server.handover import TunnelledConnection
from gateway.server.lightinit import light_http_init, light_websocket_init
from gateway.server.tcpinfo import bytes_acked, unsent
from gateway.server.tcpreset import reset
from gateway.server.upgrade import parsed_request, plain_upgrade

log = logging.getLogger("portico.gateway")


class GatewayHttpProtocol(HttpToolsProtocol):
    """httptools' protocol with a read timeout on each request's head (the handshake)."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        if config.loaded:
            light_http_init(self, config, server_state, app_state, _loop)
        else:
            super().__init__(config, server_state, app_state, _loop)
        self.head_timeout = self.config.gateway.handshake_timeout_seconds
        self.head_timer: asyncio.TimerHandle | None = None
        self.upgrade_of: list | None = None  # the request headers `_should_upgrade` judged
        self.upgrade_ok = False

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

    def _should_upgrade(self) -> bool:
        # uvicorn asks up to three times per request (headers complete, the parser's upgrade
        # signal, ...); each walks the headers: judged once per request's header list.
        headers = self.headers
        if self.upgrade_of is not headers or headers is None:
            self.upgrade_of, self.upgrade_ok = headers, super()._should_upgrade()
        return self.upgrade_ok

    def handle_websocket_upgrade(self) -> None:
        self._upgrade()
        if self.transport.get_protocol() is not self:
            # Handed over: nothing feeds this parser again. It holds this protocol's bound
            # callbacks, a reference cycle that only the cyclic collector would free (walking
            # them, a dozen objects per connection, at every young collection until then).
            self.parser = None

    def _upgrade(self) -> None:
        self._stop_head_timer()
        request = None
        if issubclass(self.ws_protocol_class, GatewayWebSocketProtocol):
            plain = plain_upgrade(self.scope, self.url)
            if plain is not None:
                self._upgrade_plain(*plain)
                return
            request = parsed_request(self.scope, self.url)
        if request is None:
            super().handle_websocket_upgrade()
            return
        # uvicorn's own, except that the request is passed as parsed, not as bytes.
        protocol = self._websocket_protocol()
        protocol.connection_made(self.transport)
        protocol.request_received(request)
        self.transport.set_protocol(protocol)

    def _upgrade_plain(self, accept: bytes, subprotocols: list[str]) -> None:
        """Hand a request `plain_upgrade` checked to the WebSocket protocol, which answers it
        itself: no websockets Request, Headers or Response, and no second socket-address look-up."""
        protocol = self._websocket_protocol()
        protocol.upgraded(self, accept, subprotocols)
        self.transport.set_protocol(protocol)

    def _websocket_protocol(self):
        """The WebSocket protocol taking this connection over (this one leaves the server's set)."""
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = "{}:{} - ".format(*self.client) if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%sUpgrading to WebSocket", prefix)
        self.connections.discard(self)
        return self.ws_protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )

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


_PLAIN_REQUEST, _PLAIN_OPEN = 1, 2  # a plain upgrade's request read; its 101 sent
# uvicorn's default headers (its list, replaced each second for the Date) and their lines.
_DEFAULT_LINES: list = [None, b""]


def _default_lines(headers: list) -> bytes:
    """The server's default header lines of a 101, formatted once per list uvicorn makes."""
    if _DEFAULT_LINES[0] is not headers:
        lines = b"".join(b"%s: %s\r\n" % (name.lower(), value) for name, value in headers)
        _DEFAULT_LINES[:] = [headers, lines]
    return _DEFAULT_LINES[1]


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol: answers over-long handshakes, never pins a socket."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        if config.loaded and not config.ws_per_message_deflate:
            light_websocket_init(self, config, server_state, app_state, _loop)
        else:
            self._conn = None
            super().__init__(config, server_state, app_state, _loop)
        self.close_grace = self.config.gateway.close_grace_seconds
        self.abort_timer: asyncio.TimerHandle | None = None
        self.acked_mark = 0  # the client's acknowledged bytes when we last judged its liveness
        self.early_bytes = False  # bytes after the request head: uvicorn parsed frames already
        self.tunnel = None  # the protocol the transport was handed to
        self.accept_key: bytes | None = None  # a plain upgrade's, until our 101 is sent
        self.plain_state = 0  # _PLAIN_REQUEST, _PLAIN_OPEN: how far a plain upgrade came
        self.tunnel_taken = False  # handed over: no ServerProtocol is made any more

    @property
    def conn(self) -> ServerProtocol | None:
        """websockets' ServerProtocol, made when first needed (None once handed over)."""
        conn = self._conn
        if conn is None and not self.tunnel_taken:
            conn = self._conn = ServerProtocol(
                extensions=[], max_size=self.config.ws_max_size, logger=self.logger
            )
            if self.plain_state:  # `upgraded` read the request: frames come next
                conn.parser = Protocol.parse(conn)
                next(conn.parser)
                if self.plain_state == _PLAIN_OPEN:
                    conn.state = State.OPEN
        return conn

    @conn.setter
    def conn(self, value: ServerProtocol | None) -> None:
        self._conn = value

    def upgraded(self, http, accept: bytes, subprotocols: list[str]) -> None:
        """Take over from the HTTP protocol a request `plain_upgrade` accepted: the scope is
        built from what httptools parsed (as `handle_connect` builds it from websockets'
        Request), and `send` answers `websocket.accept` with the 101 itself."""
        self.connections.add(self)
        transport = self.transport = http.transport
        self.server, self.client = http.server, http.client
        self.scheme = "wss" if http.scheme == "https" else "ws"
        url = http.url
        conn = self._conn
        if conn is not None:  # made by uvicorn's own __init__
            conn.parser = Protocol.parse(conn)  # frames from now on, as after a parsed request
            next(conn.parser)
        self.plain_state = _PLAIN_REQUEST
        logger = self.logger
        if logger.isEnabledFor(logging.DEBUG):  # what websockets prints (`conn.debug`)
            logger.debug("< GET %s HTTP/1.1", url.decode("ascii"))
            for name, value in http.scope["headers"]:
                logger.debug("< %s: %s", name.decode("latin-1"), value.decode("latin-1"))
        self.accept_key = accept
        self.handshake_initiated = True
        raw_path, _, query_string = url.partition(b"?")
        path = raw_path.decode("ascii")
        if "%" in path:  # as uvicorn does: most paths have nothing to unquote
            path = unquote(path)
        root_path = self.root_path
        extensions = {"websocket.http.response": {}, ABORT_EXTENSION: {}}
        extensions[TUNNEL_EXTENSION] = {"take": self.hand_over}
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            extensions["tls"] = tls_extension(ssl_object)
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": root_path,
            "path": root_path + path,
            "raw_path": root_path.encode("ascii") + raw_path,
            "query_string": query_string,
            "headers": http.scope["headers"],  # httptools' list: lower-case names, as before
            "subprotocols": subprotocols,
            "state": http.scope["state"],  # already the request's own copy
            "extensions": extensions,
        }
        self.queue.put_nowait({"type": "websocket.connect"})
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.on_task_complete)
        self.tasks.add(task)

    def _accept(self, message) -> None:
        """`websocket.accept` of a plain upgrade: the 101 uvicorn would send (websockets' headers,
        then the server's default headers, the app's and the subprotocol), written directly."""
        self.accept_key, accept = None, self.accept_key
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info(
                '%s - "WebSocket %s" [accepted]',
                get_client_addr(self.scope),
                get_path_with_query_string(self.scope),
            )
        head = [
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: ",
            accept,
            b"\r\n",
        ]
        extra = message.get("headers")
        if extra:
            for name, value in (*self.default_headers, *extra):
                head.append(b"%s: %s\r\n" % (name.lower(), value))
        else:
            head.append(_default_lines(self.default_headers))
        subprotocol = message.get("subprotocol")
        if subprotocol:
            head.append(b"Sec-WebSocket-Protocol: %s\r\n" % subprotocol.encode("latin-1"))
        head.append(b"\r\n")
        if not self.transport.is_closing():
            self.handshake_complete = True
            self.plain_state = _PLAIN_OPEN
            if self._conn is not None:
                self._conn.state = State.OPEN
            self.transport.write(b"".join(head))
            self.start_keepalive()

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
            or (self._conn is not None and self._conn.reader.buffer)
            or self.transport.is_closing()
        ):
            return None
        self.stop_keepalive()
        self.tunnel = protocol
        self.tunnel_taken = True
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
        kind = message["type"]
        if kind == ABORT_EXTENSION:
            self._abort()
            return
        if kind == "websocket.accept" and self.accept_key is not None:
            if not self.writable.is_set():
                await self.writable.wait()
            if self.disconnected:
                raise ClientDisconnected()
            if not self.handshake_complete and self.initial_response is None:
                self._accept(message)
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


def tls_extension(ssl_object) -> dict:
    """The ASGI TLS extension: the client's certificate (PEM) when it presented one."""
    der = ssl_object.getpeercert(binary_form=True)
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    return {"server_cert": None, "client_cert_chain": chain, "tls_version": None}
