"""Run the local echo WebSocket backend that the demo Echo API points at."""

import asyncio

from django.core.management.base import BaseCommand

from gateway.backend.echo import run_echo_backend


class Command(BaseCommand):
    help = "Run a local echo WebSocket backend (echoes text and binary messages)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9001)

    def handle(self, *args, host: str, port: int, **options) -> None:
        self.stdout.write(f"Echo backend on ws://{host}:{port}/ (Ctrl-C to stop)")
        asyncio.run(run_echo_backend(host, port))
