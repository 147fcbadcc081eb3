"""Serve Portico (portal pages and the WebSocket gateway) with uvicorn, tuned for the gateway."""

from django.conf import settings
from django.core.management.base import BaseCommand

from gateway.server import serve


class Command(BaseCommand):
    help = "Serve the portal and the WebSocket gateway with uvicorn (real HTTP refusals)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        self.stdout.write(
            f"Portico gateway '{settings.PORTICO_GATEWAY}' on http://{host}:{port}/ "
            f"(WebSocket APIs at ws://{host}:{port}/<suffix>)"
        )
        serve(host=host, port=port)
