"""GET /_portico/probe/<suffix>[/more]?<query>: what a WebSocket handshake there would answer.

Browsers never show why a WebSocket handshake failed (the page only sees close code 1006), so
the test consoles ask this endpoint, which runs the same handshake (route, key, policies,
backend connect; the backend leg is closed at once) and answers its status and JSON message.
The key must be in the query string, as in the browser.
"""

import uuid

from django.conf import settings

from gateway.backend import open_backend, parse_networks
from gateway.handshake import start_handshake
from gateway.httpjson import send_json
from gateway.pipeline import run_policies
from gateway.refusal import Refusal
from gateway.store import get_store

PROBE_PREFIX = "/_portico/probe"
_TRUSTED = parse_networks(settings.PORTICO_TRUSTED_PROXIES)


async def probe_app(scope, receive, send) -> None:
    correlation_id = uuid.uuid4().hex
    path = scope["path"][len(PROBE_PREFIX) :] or "/"
    ws_scope = {
        **scope,
        "type": "websocket",
        "scheme": "wss" if scope.get("scheme") == "https" else "ws",
        "path": path,
        "raw_path": path.encode("latin-1"),
        "subprotocols": [],
    }
    status, message = 101, "The handshake would be accepted."
    policy_ctx = None
    try:
        snapshot = await get_store().current()
        handshake = start_handshake(
            snapshot, ws_scope, correlation_id=correlation_id, trusted_proxies=_TRUSTED
        )
        if handshake.route.pipeline is not None:
            policy_ctx = await run_policies(
                handshake.route.pipeline,
                handshake=handshake,
                raw_headers=scope.get("headers") or [],
                product_names=[],
            )
        backend = await open_backend(
            handshake.backend,
            connect_timeout=settings.PORTICO_BACKEND_CONNECT_TIMEOUT,
            max_size=handshake.route.api.max_message_bytes,
            keepalive=None,
        )
        await backend.close(1000, "probe")
    except Refusal as refusal:
        status, message = refusal.status, refusal.message
    finally:
        if policy_ctx is not None:
            policy_ctx.release()
    await send_json(
        send, {"statusCode": status, "message": message, "correlationId": correlation_id}
    )
