"""GET /_portico/gateway (and /_portico/status): which gateway and catalog revision this serves.

Answers 503 with the reason while the process has no catalog yet, so a load balancer's health
check keeps traffic away from a node that cannot route.
"""

import os

from django.conf import settings

from gateway.httpjson import send_json
from gateway.revocation import live_connections
from gateway.store import CatalogUnavailable, get_store

STATUS_PATH = "/_portico/gateway"
STATUS_PATHS = frozenset({STATUS_PATH, "/_portico/status"})


async def status_app(scope, receive, send) -> None:
    try:
        snapshot = await get_store().current()
    except CatalogUnavailable as exc:
        await send_json(
            send,
            {
                "gateway": settings.PORTICO_GATEWAY,
                "ready": False,
                "reason": str(exc),
                "pid": os.getpid(),
            },
            status=503,
        )
        return
    await send_json(
        send,
        {
            "gateway": settings.PORTICO_GATEWAY,
            "ready": True,
            "found": snapshot.gateway_found,
            "revision": snapshot.revision,
            "apis": len(snapshot.routes),
            "pid": os.getpid(),  # which worker answered
            "connections": len(live_connections()),
        },
    )
