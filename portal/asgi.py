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

from gateway.endpoints import gateway_http  # noqa: E402
from gateway.lifecycle import lifespan_app  # noqa: E402
from gateway.refusal import Refusal, send_refusal  # noqa: E402
from gateway.routing import application as gateway_application  # noqa: E402

NO_WEBSOCKET_HERE = Refusal(
    404, "Not found. WebSocket APIs are served by the gateway nodes, not by the portal."
)


async def http_application(scope, receive, send) -> None:
    if not await gateway_http(scope, receive, send):
        await django_application(scope, receive, send)


async def refuse_websocket(scope, receive, send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send_refusal(send, scope, NO_WEBSOCKET_HERE, "-")


application = ProtocolTypeRouter(
    {"http": http_application, "websocket": gateway_application, "lifespan": lifespan_app}
)
control_plane = ProtocolTypeRouter({"http": django_application, "websocket": refuse_websocket})
