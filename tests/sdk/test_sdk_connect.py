"""connect() mints a ticket and opens a WebSocket through the real gateway to the real echo
backend; the live list and close() see that connection. Sync and async flavours."""

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from portico_client import AsyncPorticoClient, LiveConnection, PorticoError
from tests.support.client import run
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_relays_through_the_gateway_and_shows_in_the_live_list(sdk, gateway, catalog):
    serve_current_catalog(gateway)
    with sdk.connect("echo", subscription=catalog.subscription.pk) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        [row] = wait_for(lambda: list(sdk.connections.list(api="echo")), timeout=10)
        assert isinstance(row, LiveConnection) and row.subscription == catalog.subscription.pk
        assert sdk.connections.get(row.id).api == "echo"
        assert sdk.connections.close(row.id, reason="from the SDK").closing is True
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert (ws.close_code, ws.close_reason) == (1008, "from the SDK")
    assert "ticket=" in ws.request.path  # a ticket, not the key, opened it


def test_the_async_client_connects_lists_and_closes(gateway, admin_token, catalog):
    serve_current_catalog(gateway)

    async def scenario():
        async with AsyncPorticoClient(gateway.http_url, admin_token) as client:
            api = await client.apis.get("echo")
            async with client.connect("echo", subscription=catalog.subscription.pk) as ws:
                await ws.send("ping")
                echoed = await asyncio.wait_for(ws.recv(), 10)
                rows = []
                for _ in range(100):  # bounded: the node reports within a second or so
                    rows = [row async for row in client.connections.list(api="echo")]
                    if rows:
                        break
                    await asyncio.sleep(0.1)
                closed = await client.connections.close(rows[0].id)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
            return api.url_suffix, echoed, len(rows), closed.closing, ws.close_code

    assert run(scenario()) == ("echo", "ping", 1, True, 1008)


def test_connect_to_an_api_the_subscription_does_not_reach_raises_with_the_problem(sdk, catalog):
    with (
        pytest.raises(PorticoError) as refused,
        sdk.connect("nope", subscription=catalog.subscription.pk),
    ):
        pass
    assert refused.value.status == 400 and refused.value.errors[0]["field"] == "api"


def test_connect_through_a_separate_gateway_process_with_gateway_url(sdk, catalog, server_logs):
    """The portal mints the ticket; a `run_gateway` process of its own serves the connection."""
    node = ServerProcess("gateway", server_logs)
    try:
        serve_current_catalog(node)
        with sdk.connect(
            "echo", subscription=catalog.subscription.pk, gateway_url=node.ws_url
        ) as ws:
            ws.send("via the node")
            assert ws.recv(timeout=10) == "via the node"
        assert ws.request.headers["Host"] == f"127.0.0.1:{node.port}"
    finally:
        node.stop()
