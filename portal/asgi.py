"""The composition root: HTTP goes to Django, WebSocket goes to the gateway's routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_asgi_application()  # sets up Django before the gateway is imported

from channels.routing import ProtocolTypeRouter  # noqa: E402

from gateway.lifecycle import lifespan_app  # noqa: E402
from gateway.probe import PROBE_PREFIX, probe_app  # noqa: E402
from gateway.routing import application as gateway_application  # noqa: E402
from gateway.status import STATUS_PATH, status_app  # noqa: E402
from gateway.telemetry.endpoint import METRICS_PATH, metrics_app  # noqa: E402


async def http_application(scope, receive, send) -> None:
    path = scope["path"]
    if path == STATUS_PATH:
        await status_app(scope, receive, send)
    elif path.startswith(PROBE_PREFIX + "/") and scope["method"] == "GET":
        await probe_app(scope, receive, send)
    elif path == METRICS_PATH:
        await metrics_app(scope, receive, send)
    else:
        await django_application(scope, receive, send)


application = ProtocolTypeRouter(
    {"http": http_application, "websocket": gateway_application, "lifespan": lifespan_app}
)
