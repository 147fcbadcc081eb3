"""WebSocket routing: every path is an API, except `/_portico/` (kept for the portal)."""

from channels.routing import URLRouter
from django.urls import re_path

from gateway.consumer import GatewayConsumer
from gateway.state import GatewayState


def websocket_application(state: GatewayState) -> URLRouter:
    """Channels' URL router to the gateway's consumer, which gets the process's state as an
    `as_asgi()` init argument: nothing is copied or added per connection to carry it."""
    return URLRouter([re_path(r"^(?!_portico/)", GatewayConsumer.as_asgi(state=state))])
