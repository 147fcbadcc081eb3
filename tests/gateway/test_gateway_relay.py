"""End to end through uvicorn: messages, sizes, close codes and subprotocols, both directions."""

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.client import run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def url(gateway, catalog, path="/echo", query="") -> str:
    sep = "&" if query else ""
    return f"{gateway.ws_url}{path}?{query}{sep}subscription-key={catalog.key}"


def test_text_binary_and_empty_messages_round_trip_in_order(gateway, catalog, backend):
    serve_current_catalog(gateway)
    messages = ["hello", "", b"", b"\x00\xff\x10", "é ✓ 漢字", b"\x00" * 1000]

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            for message in messages:
                await ws.send(message)
            return [await ws.recv() for _ in messages]

    echoed = run(scenario())
    assert echoed == messages
    assert [type(m) for m in echoed] == [type(m) for m in messages]
    assert backend.requests[-1].received == messages


def test_one_mebibyte_messages_both_ways(gateway, catalog, backend):
    serve_current_catalog(gateway)
    big_binary = bytes(range(256)) * 4096  # 1 MiB
    big_text = "x" * (1024 * 1024)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send(big_binary)
            got_binary = await ws.recv()
            await ws.send(big_text)
            got_text = await ws.recv()
            await ws.send("!send-bytes 1048576")
            pushed = await ws.recv()
            return got_binary, got_text, pushed

    got_binary, got_text, pushed = run(scenario())
    assert got_binary == big_binary
    assert got_text == big_text
    assert pushed == b"\xab" * 1048576


def test_client_message_over_the_limit_closes_1009_and_backend_1001(gateway, catalog, backend):
    catalog.api.max_message_bytes = 1000
    catalog.api.save()
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send("ok")
            assert await ws.recv() == "ok"
            await ws.send(b"z" * 1001)
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason

    code, reason = run(scenario())
    assert code == 1009
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1001
    assert b"z" * 1001 not in seen.received


def test_backend_message_over_the_limit_closes_backend_1009_and_client_1001(
    gateway, catalog, backend
):
    catalog.api.max_message_bytes = 1000
    catalog.api.save()
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send("!send-bytes 1001")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code

    assert run(scenario()) == 1001
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1009  # the backend is told its message was too big


@pytest.mark.parametrize(
    ("code", "reason"), [(1000, "bye"), (1001, "going away"), (3000, "custom"), (4321, "app code")]
)
def test_client_close_code_and_reason_reach_the_backend(gateway, catalog, backend, code, reason):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send("hi")
            await ws.recv()
            await ws.close(code, reason)

    run(scenario())
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.closed_reason) == (code, reason)


@pytest.mark.parametrize(
    ("code", "reason"), [(1000, "done"), (1001, "restarting"), (3000, "custom"), (4999, "app")]
)
def test_backend_close_code_and_reason_reach_the_client(gateway, catalog, backend, code, reason):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send(f"!close {code} {reason}")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code, ws.close_reason

    assert run(scenario()) == (code, reason)


def test_backend_vanishing_closes_the_client_with_1014(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send("!drop")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code

    assert run(scenario()) == 1014


def test_subprotocol_offered_by_the_client_is_negotiated_by_the_backend(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog), subprotocols=["graphql-ws", "chat"]) as ws:
            return ws.subprotocol

    assert run(scenario()) == "graphql-ws"  # the test backend picks the first offered
    assert backend.requests[-1].subprotocol == "graphql-ws"


def test_path_rest_query_and_forwarded_headers_reach_the_backend_without_the_key(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(
            url(gateway, catalog, path="/echo/rooms/42", query="lang=en&x=a%20b"),
            origin="https://app.example",
            user_agent_header="portico-tests/1",
        ) as ws:
            await ws.send("ping")
            await ws.recv()

    run(scenario())
    seen = backend.requests[-1]
    assert seen.path == "/base/rooms/42?lang=en&x=a%20b"
    assert catalog.key not in seen.path
    assert seen.headers["origin"] == "https://app.example"
    assert seen.headers["user-agent"] == "portico-tests/1"
    assert seen.headers["x-forwarded-for"] == "127.0.0.1"
    assert seen.headers["x-forwarded-proto"] == "http"
    assert len(seen.headers["x-correlation-id"]) == 32


def test_key_sent_as_a_header_is_not_forwarded(gateway, catalog, backend):
    """Nor a client certificate header: the gateway reads it from a trusted proxy only, and a
    backend that trusted it would take any client's word for a certificate."""
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(
            f"{gateway.ws_url}/echo",
            additional_headers={
                "Ocp-Apim-Subscription-Key": catalog.key,
                "X-Client-Cert": "-----BEGIN%20CERTIFICATE-----%0Aforged",
            },
        ) as ws:
            await ws.send("ping")
            return await ws.recv()

    assert run(scenario()) == "ping"
    seen = backend.requests[-1]
    assert "ocp-apim-subscription-key" not in seen.headers
    assert "x-client-cert" not in seen.headers
    assert all(catalog.key not in value for value in seen.headers.values())


def test_idle_connection_is_closed_with_1001(gateway, catalog, backend):
    catalog.api.idle_timeout_seconds = 1
    catalog.api.save()
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code, ws.close_reason

    assert run(scenario()) == (1001, "idle timeout")
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1001


def test_the_message_a_backend_sends_just_before_its_close_reaches_the_client(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog)) as ws:
            await ws.send("!last goodbye")
            last = await ws.recv()
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return last, ws.close_code

    assert run(scenario()) == ("goodbye", 4000)
