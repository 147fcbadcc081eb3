"""Send to one live connection through real gateway processes: a two-worker managed gateway with
Redis (the message reaches whichever worker holds the connection), processes without Redis (the
control channel), and the failure answers 404, 413, 429 and 503 (a process that does not take
it: nothing sent)."""

import asyncio
import base64
import os
import signal
import time

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

from apis import services
from apis.telemetry.models import LiveConnection, PendingMessage
from tests.support.client import run, ws_connect
from tests.support.live import count_of, publisher_client, until
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.workers import wait_for_every_worker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a test Redis)"),
]


def send(client, connection_id: str, body: dict):
    return client.post(f"/api/v1/connections/{connection_id}/messages", body, format="json")


@pytest.fixture
def two_workers(catalog, server_logs):
    server = ServerProcess("gateway", server_logs, workers=2)
    try:
        serve_current_catalog(server)
        # Both workers listening before the connections are made: the kernel spreads new
        # connections only over the workers already accepting (one slow start put all on one).
        wait_for_every_worker(server)
        yield server
    finally:
        server.stop()


def test_a_message_reaches_the_client_on_either_worker(catalog, two_workers):
    client = publisher_client()
    figures = []

    async def scenario():
        url = f"{two_workers.ws_url}/echo?subscription-key={catalog.key}"
        sockets = []
        try:
            for _ in range(12):  # connections spread over both workers (the kernel balances)
                sockets.append(await ws_connect(url).__aenter__())
            rows, _ = await until(count_of(client, len(sockets)), "all listed", bound=5)
            workers = {row["worker"] for row in rows}
            assert len(workers) == 2, f"all on one worker: {workers}"
            sent = {}
            for index, row in enumerate(rows):
                started = time.monotonic()
                response = await asyncio.to_thread(send, client, row["id"], {"text": f"hi {index}"})
                figures.append(time.monotonic() - started)
                assert response.status_code == 200, response.content
                assert response.json() == {"id": row["id"], "outcome": "delivered"}
                sent[f"hi {index}"] = row["id"]
            holder = {}  # connection id -> the socket that got its message
            for ws in sockets:
                holder[sent[await asyncio.wait_for(ws.recv(), 5)]] = ws
            assert set(holder) == {row["id"] for row in rows}
            # Binary data as base64, to one connection of each worker.
            for worker in workers:
                row = next(r for r in rows if r["worker"] == worker)
                payload = base64.b64encode(worker.encode() + b"\x00\xff").decode()
                response = await asyncio.to_thread(send, client, row["id"], {"data": payload})
                assert response.status_code == 200, response.content
                got = await asyncio.wait_for(holder[row["id"]].recv(), 5)
                assert got == worker.encode() + b"\x00\xff"
            # The relay still relays both ways afterwards.
            await sockets[0].send("echo me")
            assert await asyncio.wait_for(sockets[0].recv(), 5) == "echo me"
        finally:
            for ws in sockets:
                await ws.close()

    run(scenario())
    print(f"send round trips (s): max {max(figures):.3f}, {sorted(figures)}")


def test_failure_answers(catalog, two_workers):
    client = publisher_client()

    async def scenario():
        url = f"{two_workers.ws_url}/echo?subscription-key={catalog.key}"
        async with ws_connect(url, max_queue=1) as ws:
            [row], _ = await until(count_of(client, 1), "listed")
            # 400: neither text nor data, or both, or bad base64.
            for body in ({}, {"text": "a", "data": "YQ=="}, {"data": "not base64!"}):
                response = await asyncio.to_thread(send, client, row["id"], body)
                assert response.status_code == 400, response.content
                assert response.json()["errors"][0]["field"] in ("text", "data")
            # An API-scoped token of this API sends too (a backend pushing to its clients).
            scoped = APIClient()
            secret = await asyncio.to_thread(
                lambda: services.create_access_token(
                    user=User.objects.get(username="pub"), name="pusher", api=catalog.api
                )[1]
            )
            scoped.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            response = await asyncio.to_thread(send, scoped, row["id"], {"text": "from backend"})
            assert response.status_code == 200, response.content
            assert await asyncio.wait_for(ws.recv(), 5) == "from backend"
            # 404: no such connection.
            response = await asyncio.to_thread(send, client, "0" * 32, {"text": "x"})
            assert response.status_code == 404
            # 404: listed, but its process does not hold it (closed since the last report).
            stale = await asyncio.to_thread(_stale_row_like, row["id"])
            response = await asyncio.to_thread(send, client, stale, {"text": "x"})
            assert response.status_code == 404, response.content
            # 413: over the API's message limit (2 MiB here).
            big = "x" * (2 * 1024 * 1024 + 1)
            response = await asyncio.to_thread(send, client, row["id"], {"text": big})
            assert response.status_code == 413, response.content
            # 429: the client stopped reading; messages are not queued without bound.
            chunk = "y" * (1024 * 1024)
            answers = []
            for _ in range(200):
                response = await asyncio.to_thread(send, client, row["id"], {"text": chunk})
                answers.append(response.status_code)
                if response.status_code != 200:
                    break
            assert answers[-1] == 429, answers
            assert response.headers["Retry-After"]
            assert 200 in answers  # the first ones fitted
            # Redis down on the control plane's side: the control channel still delivers.
            with override_settings(REDIS_URL="redis://127.0.0.1:1/4"):
                response = await asyncio.to_thread(send, client, row["id"], {"text": "x"})
            assert response.status_code in (200, 429), response.content

    run(scenario())


def _stale_row_like(connection_id: str) -> str:
    """A listed row on the same process for a connection the process does not hold."""
    row = LiveConnection.objects.get(connection_id=connection_id)
    row.pk = None
    row.connection_id = "f" * 32
    row.save()
    return row.connection_id


def test_without_redis_the_control_channel_delivers_and_a_stuck_process_answers_503(
    catalog, server_logs
):
    """A gateway process without REDIS_URL takes messages with its live report's answer; one
    that does not report (stopped) never takes it: 503, and nothing was sent."""
    server = ServerProcess("gateway", server_logs, REDIS_URL="")
    client = publisher_client()
    figures = []
    try:
        serve_current_catalog(server)

        async def scenario():
            url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
            async with ws_connect(url) as ws:
                [row], _ = await until(count_of(client, 1), "listed")
                for n in range(5):
                    started = time.monotonic()
                    response = await asyncio.to_thread(send, client, row["id"], {"text": f"m{n}"})
                    assert response.status_code == 200, response.content
                    assert await asyncio.wait_for(ws.recv(), 5) == f"m{n}"
                    figures.append(time.monotonic() - started)
                server.process.send_signal(signal.SIGSTOP)
                try:
                    response = await asyncio.to_thread(send, client, row["id"], {"text": "late"})
                finally:
                    server.process.send_signal(signal.SIGCONT)
                assert response.status_code == 503, response.content
                assert "Nothing was sent" in response.json()["errors"][0]["message"]
                assert response.headers["Retry-After"]
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 1.0)  # and it never arrives later
                # Withdrawn, not left behind.
                assert not await asyncio.to_thread(PendingMessage.objects.exists)

        run(scenario())
    finally:
        server.stop()
    print(f"control channel send round trips (s): {[round(f, 3) for f in figures]}")
