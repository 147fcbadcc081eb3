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
"""

import asyncio
import logging

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from gateway.relay import ABORT_EXTENSION
from gateway.tcpreset import reset

log = logging.getLogger("portico.gateway")


class GatewayHttpProtocol(HttpToolsProtocol):
    """httptools' protocol with a read timeout on each request's head (the handshake)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = settings.PORTICO_HANDSHAKE_TIMEOUT_SECONDS
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
        super().handle_websocket_upgrade()

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


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol: answers over-long handshakes, never pins a socket."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.close_grace = settings.PORTICO_CLOSE_GRACE_SECONDS
        self.abort_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.handshake_initiated and self.conn.handshake_exc is not None:
            # The parser refused the request (431/414, or EOF for one it could not read) and
            # queued its answer; uvicorn never sends it, so the client would wait forever.
            for chunk in self.conn.data_to_send():
                if chunk:
                    self.transport.write(chunk)
            self.handshake_initiated = self.handshake_complete = self.close_sent = True
            self.transport.close()
            self._abort_later()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][ABORT_EXTENSION] = {}

    def connection_lost(self, exc) -> None:
        if self.abort_timer is not None:
            self.abort_timer.cancel()
            self.abort_timer = None
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
        await super().run_asgi()
        self._abort_later()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self._abort_later()

    def _abort_later(self) -> None:
        if not self.disconnected and self.abort_timer is None:
            self.abort_timer = self.loop.call_later(self.close_grace, self._abort)

    def _abort(self) -> None:
        self.abort_timer = None
        if not self.disconnected:
            reset(self.transport)
