"""/metrics reports the event loop's asyncio tasks: a tunnelled connection holds none while idle
(issue 31 item 3), a framed one holds its ASGI task, and both give them back when closed."""

import asyncio

import pytest

from tests.support.client import run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import fetch_metrics, parse_metrics, value, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OPEN = 20


def tasks(server) -> float:
    status, text = fetch_metrics(server)
    assert status == 200, text
    return value(parse_metrics(text), "portico_gateway_tasks", gateway="managed")


@pytest.fixture(params=["auto", "framed"])
def relay_gateway(request, django_db_setup, server_logs):
    server = ServerProcess("combined", server_logs, PORTICO_RELAY_MODE=request.param)
    yield request.param, server
    server.stop()


def test_the_tasks_gauge_follows_connections_open_and_closed(relay_gateway, catalog):
    mode, gateway = relay_gateway
    serve_current_catalog(gateway)
    idle = tasks(gateway)
    assert idle >= 1  # at least the task serving this very scrape
    url = f"{gateway.ws_url}/echo?subscription-key={catalog.key}"

    async def scenario() -> tuple[float, float]:
        sockets = [await ws_connect(url) for _ in range(OPEN)]
        for ws in sockets:
            await ws.send("hi")
            assert await ws.recv() == "hi"
        held = await asyncio.to_thread(tasks, gateway)
        for ws in sockets:  # still relayed after the scrape
            await ws.send("again")
            assert await ws.recv() == "again"
            await ws.close()
        back = await asyncio.to_thread(
            wait_for, lambda: (n := tasks(gateway)) <= idle + 2 and n or None
        )
        return held, back

    held, back = run(scenario())
    if mode == "auto":
        # A tunnel runs from transport callbacks: the ASGI call has returned, no task waits.
        assert held <= idle + 2, (idle, held)
    else:
        # The framed relay awaits frames in the connection's ASGI task.
        assert held >= idle + OPEN, (idle, held)
    assert back and back <= idle + 2, (idle, back)
