"""Hostile handshakes: over-long heads get 431/414 at once, half-sent heads are cut in time."""

import asyncio
import base64
import os
import socket
import time

import pytest

from tests.support.client import run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

HANDSHAKE_TIMEOUT = 1.5


def handshake(path: str, extra: list[str] = ()) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_to(port: int, request: bytes, timeout: float = 1.0) -> tuple[bytes, bool]:
    """Send a raw request; return what came back within `timeout` and whether the server closed."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        sock.settimeout(0.1)
        received, closed = b"", False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
        return received, closed


@pytest.mark.parametrize(
    ("case", "status"),
    [("long header line", b"431"), ("too many headers", b"431"), ("long path", b"414")],
)
def test_over_long_handshake_is_answered_and_closed_within_a_second(
    gateway, catalog, backend, case, status
):
    serve_current_catalog(gateway)
    path = f"/echo?subscription-key={catalog.key}"
    if case == "long header line":
        request = handshake(path, [f"Cookie: big={'c' * 9000}"])
    elif case == "too many headers":
        request = handshake(path, [f"X-Header-{i}: {i}" for i in range(130)])
    else:
        request = handshake(f"{path}&token={'t' * 9000}")
    received, closed = answer_to(gateway.port, request)
    assert received.startswith(b"HTTP/1.1 " + status), received[:200]
    assert closed


def test_a_long_but_allowed_handshake_is_still_relayed(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        cookie = "c" * 7000
        async with ws_connect(
            f"{gateway.ws_url}/echo?subscription-key={catalog.key}",
            additional_headers={"Cookie": f"big={cookie}"},
        ) as ws:
            await ws.send("still fine")
            return await ws.recv()

    assert run(scenario()) == "still fine"


async def hold_half_open(port: int, count: int):
    """Open `count` connections that each send half a request line and nothing more."""
    writers = []
    readers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /echo?subscription-key=")
        readers.append(reader)
        writers.append(writer)
    return readers, writers


async def closed_by_server(reader, deadline: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), max(0.01, deadline - time.monotonic())) == b""
    except (TimeoutError, ConnectionError):
        return False


def test_a_thousand_half_open_handshakes_neither_block_clients_nor_outlive_the_timeout(
    catalog, backend, server_logs
):
    server = ServerProcess(
        "uvicorn", server_logs, PORTICO_HANDSHAKE_TIMEOUT_SECONDS=str(HANDSHAKE_TIMEOUT)
    )
    try:
        serve_current_catalog(server)

        async def scenario():
            started = time.monotonic()
            readers, writers = await hold_half_open(server.port, 1000)
            # A real client is served while the thousand wait.
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("served")
                echoed = await ws.recv()
            # Every half-open one is cut by the server, within the timeout (plus slack for
            # opening them all).
            deadline = started + HANDSHAKE_TIMEOUT + 3.0
            closed = await asyncio.gather(*(closed_by_server(r, deadline) for r in readers))
            for writer in writers:
                writer.close()
            return echoed, sum(closed)

        echoed, closed = run(scenario())
    finally:
        server.stop()
    assert echoed == "served"
    assert closed == 1000
