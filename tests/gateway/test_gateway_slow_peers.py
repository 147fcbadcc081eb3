"""Peers that stop reading or read slowly: time limits hold, keep-alive stays honest, buffers
stay bounded in bytes."""

import time

import pytest

from apis import services
from tests.support.raw_client import RawClient
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 1.0


def key_url(server, catalog) -> str:
    return f"{server.ws_url}/echo?subscription-key={catalog.key}"


def test_a_client_that_stops_reading_is_dropped_at_max_duration_and_the_backend_gets_1001(
    catalog, backend, server_logs
):
    services.update_api(api=catalog.api, max_duration_seconds=3, idle_timeout_seconds=60)
    server = ServerProcess("uvicorn", server_logs, PORTICO_CLOSE_GRACE_SECONDS=str(GRACE))
    try:
        serve_current_catalog(server)
        client = RawClient(key_url(server, catalog), rcvbuf=4096)
        try:
            opened = time.monotonic()
            client.send_text("!flood 100000 16384")  # then never read again
            ended = client.wait_ended(timeout=3 + GRACE + 4)
            held = time.monotonic() - opened
        finally:
            client.close()
        seen = backend.requests[-1]
        assert backend.wait_closed(seen, timeout=5)
    finally:
        server.stop()
    assert ended is not None, "the gateway still holds a client that stopped reading"
    assert held < 3 + GRACE + 1.0
    assert seen.closed_code == 1001
    assert "Traceback" not in server.output()
