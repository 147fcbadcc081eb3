"""The gateway consumer: one WebSocket connection from handshake to close.

It is a Channels consumer (routed by `URLRouter`, built with `as_asgi()`), but it drives the
ASGI receive/send pair itself instead of using `AsyncConsumer.dispatch`, which would pay a
thread hop (`aclose_old_connections`) and an `asyncio.wait` for every relayed message.
"""

import logging
import os
import time
from functools import partial

from channels.consumer import AsyncConsumer

from gateway.handshake.connect import open_connection
from gateway.refusal import Refusal, send_refusal, supports_denial_response
from gateway.relay import closecodes
from gateway.relay.framed import ABORT_EXTENSION, Relay
from gateway.relay.tunnel import start_tunnel
from gateway.state import GatewayState

log = logging.getLogger("portico.gateway")

# Who broke the protocol when a connection ends with 1002/1007: the client closes with it (the
# server's parser failed the client), the gateway closes with it (the backend leg failed the
# backend).
PEER_OF = {"client": "client", "gateway": "backend"}


class GatewayConsumer(AsyncConsumer):
    """Proxies one client connection to its API's backend."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state  # the process's config, stores and link: `as_asgi(state=...)`

    async def __call__(self, scope, receive, send) -> None:
        self.scope = scope
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        started = time.perf_counter()
        state = self.state
        tracing = state.tracing
        if tracing is None:
            correlation_id = os.urandom(16).hex()  # 32 random hex digits, without uuid4's object
            attempt = state.recorder.begin(scope, correlation_id)
            connection_id = correlation_id
        else:
            # The correlation id is the trace id, so a log line leads to its trace. A client's
            # traceparent chooses it, so the live-session id (which a disconnect names) stays
            # the gateway's own random one for a continued trace.
            trace = tracing.begin(scope)
            correlation_id = trace.trace_id
            attempt = trace.wrap(state.recorder.begin(scope, correlation_id))
            connection_id = os.urandom(16).hex() if trace.continued else correlation_id
        try:
            opened = await open_connection(
                state, scope, correlation_id=correlation_id, attempt=attempt
            )
        except Refusal as refusal:
            log.info(
                "handshake refused status=%s reason=%s path=%s correlation=%s",
                refusal.status,
                refusal.reason,
                scope.get("path", ""),
                correlation_id,
                extra={"correlation_id": correlation_id},
            )
            attempt.refused(refusal)
            await send_refusal(send, scope, refusal, correlation_id)
            return
        except BaseException as exc:
            attempt.failed(f"{type(exc).__name__}: {exc}")
            raise
        detached = False
        try:
            detached = await self._relay(
                state, scope, receive, send, opened, started, correlation_id, attempt, connection_id
            )
        finally:
            if not detached:
                opened.release()

    async def _relay(
        self, state, scope, receive, send, opened, started, correlation_id, attempt, connection_id
    ) -> bool:
        """Relay until the connection ends; True if a tunnel took it over and this returned at
        once (the tunnel calls `ended` when it is done, which then releases `opened`)."""
        # Taken out of `opened` so that nothing but these locals holds them: the handshake (the
        # client's decoded headers, the backend request) is dropped once the connection is
        # registered, the backend leg once a tunnel has its transport.
        backend, handshake, messages = opened.backend, opened.handshake, opened.messages
        opened.backend = opened.handshake = None
        tunnel = opened.tunnel
        api = handshake.route.api
        try:
            await send({"type": "websocket.accept", "subprotocol": backend.subprotocol})
        except OSError:
            attempt.failed("client went away before the handshake was accepted")
            await backend.close(1001, "client went away")
            return False
        handshake_ms = (time.perf_counter() - started) * 1000
        config = state.config
        relay = None
        if tunnel:
            relay = start_tunnel(
                scope,
                backend,
                max_message_bytes=api.max_message_bytes,
                idle_timeout=api.idle_timeout_seconds,
                max_duration=api.max_duration_seconds,
                close_grace=config.close_grace_seconds,
                keepalive=config.keepalive_seconds,
                plans=opened.plans,
            )
        if relay is None:
            relay = Relay(
                receive=receive,
                send=send,
                backend=backend,
                max_message_bytes=api.max_message_bytes,
                idle_timeout=api.idle_timeout_seconds,
                max_duration=api.max_duration_seconds,
                full_close_range=supports_denial_response(scope),
                close_grace=config.close_grace_seconds,
                can_abort=ABORT_EXTENSION in (scope.get("extensions") or {}),
                messages=messages,
            )
        attempt.accepted(relay.stats, handshake_ms)
        live = state.live
        # A snapshot swapped in since the handshake's checks is checked against this connection
        # now; the one they ran against needs no second look (its expiry has its own timer).
        current = state.store.snapshot
        if current is opened.snapshot:
            current = None
        live.add(relay, handshake, current, connection_id=connection_id, scope=scope)
        handshake = None
        if relay is not None and type(relay) is not Relay:  # a tunnel: nothing reads them now
            backend = None
            headers = scope.get("headers")
            if type(headers) is list:
                # Shared by every copy of the scope (uvicorn's, the router's): emptied in place.
                # Read until here: routing, key, policies, telemetry, the live sessions' entry.
                headers.clear()
            # Nothing awaits a tunnel: this call returns, and with it uvicorn's task, this chain
            # of coroutines and the scope (about 6 KiB per idle connection).
            relay.run_detached(
                partial(
                    ended,
                    state,
                    relay,
                    api,
                    attempt,
                    messages,
                    correlation_id,
                    handshake_ms,
                    opened,
                )
            )
            return True
        try:
            stats = await relay.run()
        finally:
            dropped = closed(state, relay, backend, api, attempt)
        logged(stats, api, messages, dropped, correlation_id, handshake_ms)
        return False


def ended(
    state, relay, api, attempt, messages, correlation_id, handshake_ms, opened, stats
) -> None:
    """A detached tunnel is done: what `_relay` does after `relay.run()`, and the release."""
    try:
        dropped = closed(state, relay, None, api, attempt)
        logged(stats, api, messages, dropped, correlation_id, handshake_ms)
    finally:
        opened.release()


def closed(state, relay, backend, api, attempt) -> int:
    """The connection is over: off the live list, its record closed; events it dropped."""
    state.live.remove(relay)
    dropped = getattr(backend, "dropped", 0)  # an event source's slow client (overflow)
    if dropped:
        relay.stats.messages_dropped += dropped  # in the connection's record too
        metrics = state.recorder.metrics
        metrics.child(metrics.source_dropped, api.name).inc(dropped)
    attempt.closed()
    return dropped


def logged(stats, api, messages, dropped, correlation_id, handshake_ms) -> None:
    """The lines a closed connection logs (at most a few, never per message)."""
    if dropped:
        log.info(
            "event source: %d event(s) dropped for a slow client api=%s correlation=%s",
            dropped,
            api.name,
            correlation_id,
            extra={"correlation_id": correlation_id},
        )
    if stats.by_policy:
        # Once per connection; the reason names a policy and a JSON path, never a value.
        log.info(
            "onMessage policy closed the connection: %s (%s) correlation=%s",
            stats.close_code,
            stats.close_reason,
            correlation_id,
            extra={"correlation_id": correlation_id},
        )
    elif stats.close_code in closecodes.INVALID_FRAME and stats.closed_by in PEER_OF:
        # Once per connection, never per message; the servers' parsers log no traceback.
        # The reason only where the gateway wrote it: a client's reason is its own text
        # (the client may have closed 1002/1007 itself), and peers' text stays out of logs.
        log.info(
            "%s sent an invalid frame: closed %s%s correlation=%s",
            PEER_OF[stats.closed_by],
            stats.close_code,
            f" ({stats.close_reason})" if stats.closed_by == "gateway" else "",
            correlation_id,
            extra={"correlation_id": correlation_id},
        )
    if messages is not None and messages.logged:
        # validate-message action="log": once per connection, never per message.
        log.warning(
            "%d message(s) failed validate-message api=%s first: %s correlation=%s",
            messages.logged,
            api.name,
            messages.first_logged,
            correlation_id,
            extra={"correlation_id": correlation_id},
        )
    log.debug(
        "connection closed api=%s by=%s code=%s up=%d/%dB down=%d/%dB dropped=%d "
        "handshake=%.1fms "
        "correlation=%s",
        api.name,
        stats.closed_by,
        stats.close_code,
        stats.messages_up,
        stats.bytes_up,
        stats.messages_down,
        stats.bytes_down,
        stats.messages_dropped,
        handshake_ms,
        correlation_id,
        extra={"correlation_id": correlation_id},
    )
