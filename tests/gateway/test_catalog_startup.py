"""A gateway that starts while its database is unreachable answers 503, then serves once it can."""

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from django.db import connection

from tests.support import servers
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)


class LateForwarder:
    """Listens on a loopback port only once `open()` is called, then forwards to the database."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.listener: socket.socket | None = None

    def open(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()


def test_gateway_started_without_its_database_answers_503_then_serves(
    catalog, server_logs, tmp_path
):
    settings = connection.settings_dict
    forwarder = None
    if settings["ENGINE"].endswith("sqlite3"):
        # A database file in a directory that does not exist yet: SQLite cannot open it.
        late_dir = tmp_path / "not-yet"
        url = f"sqlite:///{late_dir / 'db.sqlite3'}"

        def make_reachable() -> None:
            late_dir.mkdir()
            os.symlink(Path(settings["NAME"]).resolve(), late_dir / "db.sqlite3")
    else:
        # A PostgreSQL port where nothing listens yet, then a forwarder to the real one.
        forwarder = LateForwarder((settings.get("HOST") or "127.0.0.1", int(settings["PORT"])))
        url = servers.test_database_url().replace(f":{settings['PORT']}/", f":{forwarder.port}/")
        make_reachable = forwarder.open
    server = ServerProcess("gateway", server_logs, ready="listening", DATABASE_URL=url)
    try:
        status, _, body = server.get("/_portico/status")
        assert status == 503
        answer = json.loads(body)
        assert isinstance(answer.pop("pid"), int)  # which worker answered
        assert answer == {
            "gateway": "managed",
            "ready": False,
            "reason": "the gateway cannot read its catalog yet",
        }
        result = run(refused(f"{server.ws_url}/echo?subscription-key={catalog.key}"))
        assert result.status == 503
        assert "not loaded its catalog" in result.body["message"]
        assert result.headers["retry-after"] == "1"

        make_reachable()
        server._wait_ready("catalog")  # the background retry loads the catalog

        async def echo() -> str:
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("back")
                return await ws.recv()

        assert run(echo()) == "back"
    finally:
        server.stop()
        if forwarder is not None:
            forwarder.close()
    assert "Traceback" not in server.output()
