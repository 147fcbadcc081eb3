"""GET /_portico/gateway (and /_portico/status): which gateway and catalog revision this serves.

Answers 503 with the reason while the process has no catalog yet, so a load balancer's health
check keeps traffic away from a node that cannot route.
"""

import os

from gateway.catalog.store import CatalogUnavailable
from gateway.endpoints.httpjson import send_json
from gateway.state import state_of

STATUS_PATH = "/_portico/gateway"
STATUS_PATHS = frozenset({STATUS_PATH, "/_portico/status"})


async def status_app(scope, receive, send) -> None:
    state = state_of(scope)
    try:
        snapshot = await state.store.current()
    except CatalogUnavailable as exc:
        await send_json(
            send,
            {
                "gateway": state.config.gateway,
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
            "gateway": state.config.gateway,
            "ready": True,
            "found": snapshot.gateway_found,
            "revision": snapshot.revision,
            "apis": len(snapshot.routes),
            "pid": os.getpid(),  # which worker answered
            "connections": len(state.live),
        },
    )
