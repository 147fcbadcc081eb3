"""Run the whole demo: migrate, load demo data, start the echo backend and serve Portico.

The ready banner is printed only once both the echo backend and Portico listen, so the first
client never meets a 502; a port already taken fails at once with the option to change it;
Ctrl-C stops everything quietly.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apis.demo import load_demo
from gateway.server.serve import BOTH_PLANES, bound_socket, uvicorn_config
from portal.collected_static import ensure_collected

ECHO_HOST = "127.0.0.1"
ECHO_START_SECONDS = 30.0  # Django set-up in the echo process on a slow machine


class DemoServer(uvicorn.Server):
    """Uvicorn that calls `on_ready` once it listens (uvicorn's own line is logged at INFO)."""

    def __init__(self, config: uvicorn.Config, on_ready) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self.on_ready()


def _taken(what: str, host: str, port: int, option: str, exc: OSError) -> CommandError:
    return CommandError(
        f"{what} cannot use {host}:{port}: {exc.strerror or exc}. Another program (another "
        f"demo?) is probably listening there: choose a free port with {option} {port + 1}."
    )


def _echo_port_free(port: int) -> OSError | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ECHO_HOST, port))
        except OSError as exc:
            return exc
    return None


def _wait_listening(process: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + ECHO_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((ECHO_HOST, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop_like_ctrl_c(signum, frame) -> None:
    """SIGTERM (`docker stop`, systemd, `timeout`) stops the demo as Ctrl-C does, echo backend
    included. uvicorn handles the signal itself while it serves, then raises it again once it has
    shut down: with the default handler the process died there and left the echo backend running."""
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class Command(BaseCommand):
    help = "Migrate, load demo data, start the echo backend and serve the portal and gateway."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--echo-port", type=int, default=9001)

    def handle(self, *args, host: str, port: int, echo_port: int, **options) -> None:
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
        echo = None
        try:
            echo = self._run(host, port, echo_port)
        except KeyboardInterrupt:
            pass  # Ctrl-C before the server ran: stop without a traceback
        finally:
            _stop(echo)
        self.stdout.write("Portico demo stopped.")

    def _run(self, host: str, port: int, echo_port: int) -> None:
        # Both ports first: a taken one fails before anything is printed or started.
        try:
            listener = bound_socket(host, port)
        except OSError as exc:
            raise _taken("Portico", host, port, "--port", exc) from None
        try:
            if problem := _echo_port_free(echo_port):
                raise _taken("The echo backend", ECHO_HOST, echo_port, "--echo-port", problem)
            call_command("migrate", verbosity=0, interactive=False)
            ensure_collected(self.stdout.write)
            result = load_demo(backend_url=f"ws://{ECHO_HOST}:{echo_port}/")
            echo = subprocess.Popen(
                [sys.executable, "manage.py", "echo_backend", "--host", ECHO_HOST,
                 "--port", str(echo_port)],
                cwd=settings.BASE_DIR,
                # Quiet unless asked: the ready banner says it listens.
                env={"LOG_LEVEL": "WARNING", **os.environ},
                stdout=subprocess.DEVNULL,
                # Its own session: Ctrl-C in the terminal reaches only the demo, which stops it.
                start_new_session=True,
            )  # fmt: skip
            try:
                if not _wait_listening(echo, echo_port):
                    raise CommandError(
                        f"The echo backend did not start on {ECHO_HOST}:{echo_port} "
                        f"(exit code {echo.poll()}): try another port with --echo-port."
                    )
                config = uvicorn_config(host=host, port=port, app=BOTH_PLANES)
                server = DemoServer(config, lambda: self._banner(host, port, result))
                server.run(sockets=[listener])
            except BaseException:
                _stop(echo)
                raise
            return echo
        finally:
            listener.close()

    def _banner(self, host: str, port: int, result) -> None:
        base = f"http://{host}:{port}"
        gateway_url = f"ws://{host}:{port}/{result.api_suffix}"
        lines = [
            "",
            "Portico demo",
            f"  Developer portal  {base}/",
            f"  Django admin      {base}/admin/",
        ]
        manage = f"DEBUG=1 {sys.executable} manage.py"
        for role in ("admin", "developer"):
            username = getattr(result, f"{role}_username")
            # Printed once: on a later run, say how to set a new one rather than leave no way back.
            password = getattr(result, f"{role}_password") or (
                f"(set on the first run; a new one: {manage} changepassword {username})"
            )
            lines.append(f"  {role:<9} login   {username} / {password}")
        lines += [
            f"  Echo API          {gateway_url}",
            f"  Echo backend      {result.backend_url}",
            "  Try it:",
            f"    {sys.executable} -m websockets "
            f"'{gateway_url}?subscription-key={result.primary_key}'",
            "  The portico command line (management API):",
            f"    export PORTICO_URL={base}",
            f"    export PORTICO_TOKEN=$({manage} createtoken {result.admin_username})",
            "",
            f"Ready: Portico and the echo backend are listening on {base}/ (Ctrl-C to stop).",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
