"""Records still in the telemetry buffer are written when the gateway stops on SIGTERM."""

import pytest

from apis.telemetry.models import ConnectionLog
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def test_sigterm_flushes_the_records_still_buffered(catalog, backend, server_logs):
    # A flush interval far longer than the test: only the shutdown can write these records.
    server = ServerProcess("gateway", server_logs, PORTICO_TELEMETRY_FLUSH_MS="600000")
    try:
        serve_current_catalog(server)

        async def scenario():
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("hi")
                await ws.recv()

        run(scenario())
        run(refused(f"{server.ws_url}/echo"))
        assert ConnectionLog.objects.count() == 0  # still in the buffer
        server.terminate()
    finally:
        server.stop()
    states = sorted(ConnectionLog.objects.values_list("state", "status"))
    assert [status for _state, status in states] == [101, 401]
    assert "telemetry flushed at shutdown: 2 connection record(s)" in server.output()
