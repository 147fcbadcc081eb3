"""Real ASGI servers in subprocesses, one kind per role.

- "gateway": the data plane, `manage.py run_gateway` (`workers=` sets --workers, default 1);
- "portal": the control plane, `manage.py run_portal`;
- "combined" (alias "uvicorn"): both planes in one uvicorn process, as the demo serves them, for
  tests that need pages and WebSocket APIs on one origin;
- "daphne": both planes on Daphne.
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.db import connection

from apis import selectors
from tests.support.backend import free_port
from tests.support.telemetry import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for a server subprocess to share."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def server_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "DEBUG": "1",
            "DATABASE_URL": test_database_url(),
            "PORTICO_SNAPSHOT_POLL_SECONDS": "0.1",
            "PORTICO_BACKEND_CONNECT_TIMEOUT": "1.5",
            "PORTICO_SHUTDOWN_GRACE_SECONDS": "3",
            # Servers shared by many tests report once at start; node tests ask for more.
            "PORTICO_HEARTBEAT_SECONDS": "3600",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # Counters may live in a shared Redis: never reuse another run's.
            "PORTICO_LIMITS_KEY_PREFIX": f"portico-test-{uuid.uuid4().hex}",
        }
    )
    env.update(overrides)
    return env


class ServerProcess:
    """One server subprocess on a free loopback port; its output goes to a file to read back."""

    def __init__(
        self,
        kind: str,
        log_dir: Path,
        *,
        workers: int = 1,
        ready: str = "catalog",
        port: int | None = None,
        args: tuple[str, ...] = (),
        tls: bool = False,
        **env: str,
    ) -> None:
        """`ready`: "catalog" waits until the catalog is served, "listening" for any answer;
        `args` are added to the command; `tls`: the server answers https/wss only."""
        self.kind = "combined" if kind == "uvicorn" else kind
        self.tls = tls
        self.port = port or free_port()
        self.log_path = log_dir / f"{self.kind}-{self.port}-{uuid.uuid4().hex[:6]}.log"
        if self.kind == "gateway":
            command = [sys.executable, "manage.py", "run_gateway", "--port", str(self.port)]
            command += ["--workers", str(workers)]
        elif self.kind == "portal":
            command = [sys.executable, "manage.py", "run_portal", "--port", str(self.port)]
        elif self.kind == "combined":
            command = [sys.executable, "-m", "tests.support.combined_server", str(self.port)]
        elif self.kind == "daphne":
            command = [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "portal.asgi:application",
            ]
        else:
            raise ValueError(kind)
        self.command = command = [*command, *args]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(**env), stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready(ready)

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _open(self, url: str):
        # The tests' own certificates: readiness and status need no verification.
        unverified = ssl._create_unverified_context() if self.tls else None  # noqa: S323
        return urllib.request.urlopen(url, timeout=5, context=unverified)  # noqa: S310

    def status(self) -> dict:
        with self._open(f"{self.http_url}/_portico/gateway") as response:
            return json.load(response)

    def wait_for_revision(self, revision: int, timeout: float = 10.0) -> None:
        """Block until the server serves catalog `revision` (it polls the database)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status()["revision"] == revision:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.kind} never served revision {revision}: {self.status()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def logged(self, text: str, timeout: float = 10.0) -> bool:
        """Whether the server printed `text` (bounded wait: its log is written asynchronously)."""
        return wait_for(lambda: text in self.output(), timeout=timeout, interval=0.1)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET `path`: (status, headers, body), whatever the status."""
        try:
            with self._open(f"{self.http_url}{path}") as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def _wait_ready(self, ready: str) -> None:
        path = "/healthz" if self.kind == "portal" else "/_portico/gateway"
        deadline = time.monotonic() + 60  # several workers start slowly on a busy machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{self.output()}")
            try:
                status, _, _ = self.get(path)
            except OSError:
                status = 0
            if status == 200 or (status and ready == "listening"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} did not start:\n{self.output()}")

    def terminate(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def stop(self) -> None:
        self.terminate()
        self._log.close()


def serve_current_catalog(*servers: ServerProcess) -> None:
    """Wait until every server has loaded the catalog as it is in the database now."""
    revision = selectors.catalog_revision()
    for server in servers:
        server.wait_for_revision(revision)
