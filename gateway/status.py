"""GET /_portico/gateway: which gateway and catalog revision this process serves."""

from django.conf import settings

from gateway.httpjson import send_json
from gateway.store import get_store

STATUS_PATH = "/_portico/gateway"


async def status_app(scope, receive, send) -> None:
    snapshot = await get_store().current()
    await send_json(
        send,
        {
            "gateway": settings.PORTICO_GATEWAY,
            "found": snapshot.gateway_found,
            "revision": snapshot.revision,
            "apis": len(snapshot.routes),
        },
    )
