"""The data plane's composition root: WebSocket APIs and the gateway's endpoints, nothing else.

Served by `manage.py run_gateway`. Django is set up for settings and the catalog's models, but
no request ever reaches Django's handler: no page is rendered and no view is imported.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402

from gateway.endpoints import gateway_http, not_found  # noqa: E402
from gateway.lifecycle import lifespan_app  # noqa: E402
from gateway.routing import application as websocket_application  # noqa: E402


async def http_application(scope, receive, send) -> None:
    if not await gateway_http(scope, receive, send):
        await not_found(scope, receive, send)


application = ProtocolTypeRouter(
    {"http": http_application, "websocket": websocket_application, "lifespan": lifespan_app}
)
