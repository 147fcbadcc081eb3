"""Reconnect storms: the listen backlog, handshakes let in a few at a time, clients that left."""

import asyncio
import base64
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from websockets.asyncio.server import serve

from apis import services
from tests.support.backend import free_port
from tests.support.client import run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

BACKEND_DELAY = 2.5  # seconds the slow backend takes to answer each handshake


def listen_backlog(port: int) -> int:
    """The backlog of the socket listening on `port`, as the kernel reports it (ss's Send-Q)."""
    ss = shutil.which("ss")
    assert ss, "ss (iproute2) is needed to read a listening socket's backlog"
    out = subprocess.run(  # noqa: S603
        [ss, "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert rows, f"nothing listens on {port}"
    return int(rows[0][2])


def test_the_listen_backlog_is_the_setting(catalog, server_logs):
    server = ServerProcess("gateway", server_logs, PORTICO_LISTEN_BACKLOG="1234")
    try:
        assert listen_backlog(server.port) == 1234  # uvicorn's own default is 2048
    finally:
        server.stop()


def test_handshakes_beyond_the_bound_wait_their_turn_and_a_slow_backend_holds_a_slot_a_second(
    catalog, server_logs
):
    backend_port = free_port()
    slow = services.create_api(
        display_name="Slow",
        backend_url=f"ws://127.0.0.1:{backend_port}/",
        url_suffix="slow",
        gateways=[catalog.gateway],
    )
    services.update_product(product=catalog.product, apis=[catalog.api, slow])
    server = ServerProcess(
        "gateway",
        server_logs,
        PORTICO_HANDSHAKE_CONCURRENCY="1",
        PORTICO_BACKEND_CONNECT_TIMEOUT="10",
    )
    try:
        serve_current_catalog(server)

        async def scenario():
            arrivals = []

            async def process_request(connection, request):
                arrivals.append(time.monotonic())
                await asyncio.sleep(BACKEND_DELAY)

            async def echo(ws):
                async for message in ws:
                    await ws.send(message)

            async def client(i: int) -> str:
                url = f"{server.ws_url}/slow?subscription-key={catalog.key}"
                async with ws_connect(url, open_timeout=20) as ws:
                    await ws.send(f"hello {i}")
                    return await ws.recv()

            async with serve(echo, "127.0.0.1", backend_port, process_request=process_request):
                echoed = await asyncio.gather(*(client(i) for i in range(3)))
            return echoed, arrivals

        echoed, arrivals = run(scenario())
    finally:
        server.stop()
    assert sorted(echoed) == ["hello 0", "hello 1", "hello 2"]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # One handshake at a time reaches the backend (without the bound all three arrive at once),
    # and each waits for the one before it at most about a second, not the backend's 2.5 s.
    assert len(gaps) == 2
    assert all(0.8 <= gap <= 2.0 for gap in gaps), gaps


def handshake_request(path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def test_a_handshake_whose_client_left_while_it_was_queued_never_reaches_the_backend(
    catalog, backend, server_logs
):
    server = ServerProcess("gateway", server_logs)  # one worker: the process is the worker
    try:
        serve_current_catalog(server)
        backend.reset()
        # The worker is busy elsewhere (stopped): the kernel queues the connections, each with
        # its request and then its client's FIN, as a storm's timed-out clients leave them.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            for _ in range(20):
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(handshake_request(f"/echo?subscription-key={catalog.key}"))
        finally:
            os.kill(server.process.pid, signal.SIGCONT)

        async def served() -> str:
            async with ws_connect(f"{server.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("after them")
                return await ws.recv()

        assert run(served()) == "after them"
        time.sleep(0.5)  # anything still on its way to the backend gets there
    finally:
        server.stop()
    # Only the client that stayed got a backend connection; nobody waited for the other 20.
    assert len(backend.requests) == 1, [r.path for r in backend.requests]


def test_a_backend_that_never_answers_cannot_take_every_place_nor_queue_other_apis_behind_it(
    catalog, server_logs
):
    stuck_port = free_port()
    stuck = services.create_api(
        display_name="Stuck",
        backend_url=f"ws://127.0.0.1:{stuck_port}/",
        url_suffix="stuck",
        gateways=[catalog.gateway],
    )
    services.update_product(product=catalog.product, apis=[catalog.api, stuck])
    # Four places; the stuck API's sixteen handshakes each hold one for the full second.
    server = ServerProcess("gateway", server_logs, PORTICO_HANDSHAKE_CONCURRENCY="4")
    try:
        serve_current_catalog(server)

        async def scenario() -> tuple[str, int]:
            arrivals, released = [], asyncio.Event()

            async def process_request(connection, request):
                arrivals.append(request.path)
                await released.wait()  # never answers while the test looks

            async def stuck_client() -> None:
                url = f"{server.ws_url}/stuck?subscription-key={catalog.key}"
                async with ws_connect(url, open_timeout=30):
                    pass

            async with serve(
                lambda ws: ws.wait_closed(),
                "127.0.0.1",
                stuck_port,
                process_request=process_request,
            ):
                waiting = [asyncio.create_task(stuck_client()) for _ in range(16)]
                while len(arrivals) < 3:
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.5)  # the rest of the sixteen are read and wait their turn
                url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
                async with ws_connect(url, open_timeout=30) as ws:
                    seen = len(arrivals)  # stuck handshakes let in before this one was answered
                    await ws.send("healthy")
                    echoed = await ws.recv()
                released.set()
                for task in waiting:
                    task.cancel()
                await asyncio.gather(*waiting, return_exceptions=True)
            return echoed, seen

        echoed, seen = run(scenario())
    finally:
        server.stop()
    assert echoed == "healthy"
    # One queue in arrival order put the echo handshake behind all sixteen stuck ones (it was
    # answered only once the last of them had reached the stuck backend); with a share per API
    # the stuck API holds three of the four places and the echo handshake takes the fourth.
    assert seen < 16, seen


class Queued:
    """A connection waiting in the gate: what GatedHttpProtocol offers it (`waiting`, upgrade)."""

    def __init__(self) -> None:
        self.waiting = True
        self.slot = None

    def upgrade_with(self, slot) -> None:
        self.waiting, self.slot = False, slot


def test_an_api_alone_uses_every_place_and_gives_one_back_to_another_api_in_turn():
    """The share holds only while another API waits: a storm at one API gets every place (with a
    fixed three quarters, 20,000 reconnects at one API collapsed more often), and the first place
    freed goes to the other API, not to the busy one's queue."""
    from gateway.server.admission import HandshakeGate

    async def scenario() -> None:
        gate = HandshakeGate(4)
        busy = [gate.try_take(b"feed") for _ in range(4)]
        assert all(busy), "one API alone may take every place"
        assert gate.try_take(b"feed") is None  # the bound itself still holds
        more, other = Queued(), Queued()
        gate.wait(b"feed", more)
        gate.wait(b"echo", other)
        busy[0].release()
        assert other.slot is not None and more.slot is None  # the other API's turn first
        busy[1].release()
        assert more.slot is not None  # echo waits no more: feed's queue is next
        for slot in (*busy[2:], other.slot, more.slot):
            slot.release()
        assert gate.in_flight == 0

    asyncio.run(scenario())
