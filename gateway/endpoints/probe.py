"""GET /_portico/probe/<suffix>[/more]?<query>: what a WebSocket handshake there would answer.

Browsers never show why a WebSocket handshake failed (the page only sees close code 1006), so
the test consoles ask this endpoint, which runs the same handshake (route, key, policies,
backend connect; the backend leg is closed at once) and answers its status and JSON message.
The key (or a fresh connect ticket; a console POSTs so that the browser sends its Origin) must
be in the query string, as in the browser. The consoles live on the portal's pages,
which may be another origin than the gateway node: the answer allows any origin (it never uses
cookies, and a page could open the WebSocket itself anyway).
"""

import uuid

from gateway.endpoints.httpjson import send_json
from gateway.handshake.connect import NoRecord, open_connection
from gateway.refusal import Refusal
from gateway.state import state_of

PROBE_PREFIX = "/_portico/probe"


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
    try:
        opened = await open_connection(
            state_of(scope), ws_scope, correlation_id=correlation_id, attempt=NoRecord()
        )
    except Refusal as refusal:
        status, message = refusal.status, refusal.message
    else:
        await opened.backend.close(1000, "probe")
        opened.release()
    await send_json(
        send,
        {"statusCode": status, "message": message, "correlationId": correlation_id},
        headers=[(b"access-control-allow-origin", b"*")],
    )
