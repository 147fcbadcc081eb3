"""`portico connection list|close` against a real gateway holding real connections."""

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.client import run, ws_connect
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_list_and_close_a_connection_from_the_command_line(portico, gateway, catalog, backend):
    serve_current_catalog(gateway)

    def listed():
        done = portico("--json", "connection", "list", "--api", "echo")
        assert done.code == 0, done.err
        return json.loads(done.out)

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            [row] = await asyncio.to_thread(wait_for, listed, timeout=5)
            assert row["subscription"] == catalog.subscription.pk
            one = await asyncio.to_thread(portico, "--json", "connection", "get", row["id"])
            assert json.loads(one.out)["api"] == "echo"
            table = await asyncio.to_thread(portico, "connection", "list")
            assert row["id"] in table.out and "127.0.0.1" in table.out
            done = await asyncio.to_thread(
                portico, "--json", "connection", "close", row["id"], "--reason", "from the CLI"
            )
            assert done.code == 0 and json.loads(done.out)["closing"] is True
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 3)
            return ws.close_code, ws.close_reason

    assert run(scenario()) == (1008, "from the CLI")
    assert portico("connection", "close", "f" * 32).code != 0  # gone: 404
