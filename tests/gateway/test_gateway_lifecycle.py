"""Connection lifecycle: vanishing clients, SIGTERM, catalog refresh, and the Daphne difference."""

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed

from apis import services
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def test_client_vanishing_without_close_frame_releases_the_backend_leg(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            await ws.send("hi")
            await ws.recv()
            ws.transport.abort()  # TCP reset, no close frame

    run(scenario())
    seen = backend.requests[-1]
    started = time.monotonic()
    assert backend.wait_closed(seen, timeout=5)
    assert time.monotonic() - started < 2.0
    assert seen.closed_code == 1001  # the gateway told the backend the client went away


def test_sigterm_closes_both_legs(catalog, backend, server_logs):
    server = ServerProcess("gateway", server_logs)
    try:
        serve_current_catalog(server)

        async def scenario():
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("hi")
                await ws.recv()
                server.process.send_signal(15)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                return ws.close_code

        code = run(scenario())
        started = time.monotonic()
        exit_code = server.process.wait(15)
        exit_seconds = time.monotonic() - started
    finally:
        server.stop()
    assert code in (1001, 1012)
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code in (1001, 1012)
    # Uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status names the signal.
    assert exit_code in (0, -15)
    assert exit_seconds < 5  # well inside the 3 s grace period plus start-up slack


def test_catalog_change_is_served_without_restart(gateway, catalog, backend):
    serve_current_catalog(gateway)
    assert run(refused(f"{gateway.ws_url}/chat?subscription-key={catalog.key}")).status == 404
    services.create_api(
        display_name="Chat",
        backend_url=backend.url,
        url_suffix="chat",
        products=[catalog.product],
    )
    deadline = time.monotonic() + 3

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/chat?subscription-key={catalog.key}") as ws:
            await ws.send("now here")
            return await ws.recv()

    while True:  # the documented promise: within a second or two, on every process
        try:
            assert run(scenario()) == "now here"
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_daphne_refuses_with_403_and_relays(catalog, backend, server_logs):
    """Daphne has no denial response: every refusal becomes 403 without a body, and close
    reasons are dropped. Uvicorn is the documented server for the gateway."""
    server = ServerProcess("daphne", server_logs)
    try:
        serve_current_catalog(server)
        missing = run(refused(f"{server.ws_url}/echo"))
        unknown = run(refused(f"{server.ws_url}/nothing?subscription-key={catalog.key}"))

        async def scenario():
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("via daphne")
                echoed = await ws.recv()
                await ws.send("!close 4001 app-level")
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
                return echoed, ws.close_code, ws.close_reason

        echoed, code, reason = run(scenario())
    finally:
        server.stop()
    assert missing.status == 403 and unknown.status == 403
    assert echoed == "via daphne"
    # Daphne passes the code through but never sends a close reason.
    assert (code, reason) == (4001, "")
