"""GET /_portico/gateway: which gateway and catalog revision this process serves."""

import json

from django.conf import settings

from gateway.store import get_store

STATUS_PATH = "/_portico/gateway"


async def status_app(scope, receive, send) -> None:
    snapshot = await get_store().current()
    body = json.dumps(
        {
            "gateway": settings.PORTICO_GATEWAY,
            "found": snapshot.gateway_found,
            "revision": snapshot.revision,
            "apis": len(snapshot.routes),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})
