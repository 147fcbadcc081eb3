"""The data plane's own small HTTP endpoints: status, the handshake probe and /metrics.

They are served by every process that runs the gateway (a gateway node and the demo). The probe
stays on the data plane because it runs the real handshake (route, key, policies, backend) from
this process's snapshot; the consoles on the portal's pages call it cross-origin.
"""

from gateway.endpoints.httpjson import send_json
from gateway.endpoints.metrics import METRICS_PATH, metrics_app
from gateway.endpoints.probe import PROBE_PREFIX, probe_app
from gateway.endpoints.status import STATUS_PATHS, status_app


async def gateway_http(scope, receive, send) -> bool:
    """Serve the request if it is one of the gateway's endpoints; False when it is not."""
    path = scope["path"]
    if path in STATUS_PATHS:
        await status_app(scope, receive, send)
    # POST too: a browser sends its Origin on a POST, which an Origin-bound connect ticket needs.
    elif path.startswith(PROBE_PREFIX + "/") and scope["method"] in ("GET", "POST"):
        await probe_app(scope, receive, send)
    elif path == METRICS_PATH:
        await metrics_app(scope, receive, send)
    else:
        return False
    return True


async def not_found(scope, receive, send) -> None:
    """Everything else on a gateway node: pages, admin and the REST API live on the portal."""
    await send_json(
        send,
        {
            "statusCode": 404,
            "message": "Not found. This is a Portico gateway node: it serves WebSocket APIs only.",
        },
        status=404,
    )
