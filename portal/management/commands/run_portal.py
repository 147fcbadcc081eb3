"""Serve the control plane (pages, admin, REST API, node endpoints); no WebSocket APIs."""

import uvicorn
from django.core.management.base import BaseCommand

from portal.collected_static import ensure_collected


class Command(BaseCommand):
    help = "Serve the portal, admin and management API (control plane only) with uvicorn."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)

    def handle(self, *args, host: str, port: int, **options) -> None:
        ensure_collected(self.stdout.write)  # pages need their CSS and scripts (DEBUG off)
        self.stdout.write(f"Portico portal on http://{host}:{port}/ (admin at /admin/)")
        uvicorn.run(
            "portal.asgi:control_plane",
            host=host,
            port=port,
            lifespan="off",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            # Access lines would print query strings; nothing here should log them.
            access_log=False,
            server_header=False,
            proxy_headers=False,
            log_config=None,
        )
