"""WebSocket routing: every path is an API, except `/_portico/` (kept for the portal)."""

from channels.routing import URLRouter
from django.urls import re_path

from gateway.consumer import GatewayConsumer

websocket_urlpatterns = [re_path(r"^(?!_portico/)", GatewayConsumer.as_asgi())]
application = URLRouter(websocket_urlpatterns)
