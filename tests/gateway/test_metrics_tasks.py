"""/metrics reports the event loop's asyncio tasks, so a long hold can show they stay flat."""

import asyncio

import pytest

from tests.support.client import run, ws_connect
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import fetch_metrics, parse_metrics, value, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OPEN = 20


def tasks(server) -> float:
    status, text = fetch_metrics(server)
    assert status == 200, text
    return value(parse_metrics(text), "portico_gateway_tasks", gateway="managed")


def test_the_tasks_gauge_follows_connections_open_and_closed(gateway, catalog):
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
        for ws in sockets:
            await ws.close()
        back = await asyncio.to_thread(
            wait_for, lambda: (n := tasks(gateway)) <= idle + 2 and n or None
        )
        return held, back

    held, back = run(scenario())
    # Every open connection holds at least its ASGI task; closed, they are gone again.
    assert held >= idle + OPEN, (idle, held)
    assert back and back <= idle + 2, (idle, back)
