"""Run the whole demo: migrate, load demo data, start the echo backend and serve Portico."""

import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apis.demo import load_demo
from gateway.server import BOTH_PLANES, serve


class Command(BaseCommand):
    help = "Migrate, load demo data, start the echo backend and serve the portal and gateway."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--echo-port", type=int, default=9001)

    def handle(self, *args, host: str, port: int, echo_port: int, **options) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        if not settings.DEBUG:
            call_command("collectstatic", verbosity=0, interactive=False)
        result = load_demo(backend_url=f"ws://127.0.0.1:{echo_port}/")
        echo = subprocess.Popen(
            [sys.executable, "manage.py", "echo_backend", "--port", str(echo_port)],
            cwd=settings.BASE_DIR,
        )
        base = f"http://{host}:{port}"
        gateway_url = f"ws://{host}:{port}/{result.api_suffix}"
        lines = [
            "",
            "Portico demo is starting",
            f"  Developer portal  {base}/",
            f"  Django admin      {base}/admin/",
        ]
        for role in ("admin", "developer"):
            password = getattr(result, f"{role}_password") or "(unchanged since the first run)"
            lines.append(f"  {role:<9} login   {getattr(result, f'{role}_username')} / {password}")
        lines += [
            f"  Echo API          {gateway_url}",
            "  Try it:",
            f"    {sys.executable} -m websockets "
            f"'{gateway_url}?subscription-key={result.primary_key}'",
            "",
        ]
        self.stdout.write("\n".join(lines))
        try:
            serve(host=host, port=port, app=BOTH_PLANES)
        finally:
            echo.terminate()
            echo.wait(timeout=5)
