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


def test_send_broadcast_and_a_scoped_token_from_the_command_line(
    portico, gateway, catalog, tmp_path
):
    """Against the demo's layout (both planes in one process): delivered in-process."""
    serve_current_catalog(gateway)

    def listed():
        done = portico("--json", "connection", "list", "--api", "echo")
        return json.loads(done.out)

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            [row] = await asyncio.to_thread(wait_for, listed, timeout=5)
            done = await asyncio.to_thread(
                portico, "--json", "connection", "send", row["id"], "--text", "hello"
            )
            assert done.code == 0, done.err
            assert json.loads(done.out) == {"id": row["id"], "outcome": "delivered"}
            assert await asyncio.wait_for(ws.recv(), 5) == "hello"
            (tmp_path / "blob.bin").write_bytes(b"\x00\x01binary")
            done = await asyncio.to_thread(
                portico, "connection", "send", row["id"], "--file", "blob.bin"
            )
            assert done.code == 0, done.err
            assert await asyncio.wait_for(ws.recv(), 5) == b"\x00\x01binary"
            done = await asyncio.to_thread(
                portico, "--json", "connection", "broadcast", "--api", "echo", "--text", "all"
            )
            assert done.code == 0, done.err
            assert json.loads(done.out) == {"matched": 1, "delivered": 1, "failed": 0}
            assert await asyncio.wait_for(ws.recv(), 5) == "all"
            # An API-scoped token, shown once, works for this API's connections.
            done = await asyncio.to_thread(
                portico, "connection", "token", "--api", "echo", "pusher"
            )
            assert done.code == 0, done.err
            secret = done.out.strip().splitlines()[-1]
            assert secret.startswith("pat_")
            done = await asyncio.to_thread(
                portico, "connection", "send", row["id"], "--text", "scoped", PORTICO_TOKEN=secret
            )
            assert done.code == 0, done.err
            assert await asyncio.wait_for(ws.recv(), 5) == "scoped"
            denied = await asyncio.to_thread(portico, "api", "list", PORTICO_TOKEN=secret)
            assert denied.code != 0 and "403" in denied.err

    run(scenario())
    gone = portico("connection", "send", "f" * 32, "--text", "x")
    assert gone.code != 0 and "404" in gone.err
    both = portico("connection", "broadcast", "--text", "x")  # no selector
    assert both.code != 0 and "400" in both.err
