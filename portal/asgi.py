"""The control plane's composition root, and the demo's combined one (both planes in one process).

`control_plane` (served by `manage.py run_portal`): pages, admin, the REST API and the node
endpoints, all through Django; a WebSocket handshake is refused with 404, since no API is served
here. `application` (the demo, Daphne and `runserver`): HTTP to Django except the gateway's own
endpoints, WebSocket to the gateway's routing.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_asgi_application()  # sets up Django before the gateway is imported

from channels.routing import ProtocolTypeRouter  # noqa: E402

from gateway.config import GatewayConfig  # noqa: E402
from gateway.lifecycle import build_application, build_state  # noqa: E402
from gateway.refusal import Refusal, send_refusal  # noqa: E402

NO_WEBSOCKET_HERE = Refusal(
    404, "Not found. WebSocket APIs are served by the gateway nodes, not by the portal."
)


async def refuse_websocket(scope, receive, send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send_refusal(send, scope, NO_WEBSOCKET_HERE, "-")


def __getattr__(name: str):
    # The demo's application is built on first use: `run_portal` serves `control_plane` only,
    # and must not build a gateway (its link, stores and reporters) it never runs.
    if name == "application":
        app = build_application(
            build_state(GatewayConfig.from_settings()), other_http=django_application
        )
        globals()["application"] = app
        return app
    raise AttributeError(name)


control_plane = ProtocolTypeRouter({"http": django_application, "websocket": refuse_websocket})
