"""Live connections through real gateway processes: listed across nodes within 2 s of opening and
closing, counts growing, closed by id (client 1008 + reason, backend 1001), owners' limits."""

import asyncio
import logging
import os
import time

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.telemetry import live_services
from tests.support.client import run, ws_connect
from tests.support.live import BOUND, count_of, listed, publisher_client, until
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(ws) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), BOUND + 1)
    return ws.close_code, ws.close_reason


@pytest.fixture
def two_gateways(catalog, server_logs):
    """Two managed gateway processes, as two nodes, on the shared database."""
    servers = [
        ServerProcess("gateway", server_logs, PORTICO_NODE_ID=name) for name in ("node-a", "node-b")
    ]
    try:
        serve_current_catalog(*servers)
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_managed_nodes_list_count_and_close_connections(catalog, two_gateways, backend, caplog):
    a, b = two_gateways
    client = publisher_client()
    caplog.set_level(logging.INFO, logger="portico.audit")
    figures = {}

    async def scenario():
        url = f"/echo?subscription-key={catalog.key}"
        headers = {"User-Agent": "live-test/1.0"}
        async with (
            ws_connect(a.ws_url + url, additional_headers=headers) as on_a,
            ws_connect(b.ws_url + url, additional_headers=headers) as on_b,
        ):
            rows, figures["opened"] = await until(count_of(client, 2), "both opens listed")
            assert {row["node"] for row in rows} == {"node-a", "node-b"}
            for row in rows:
                assert row["api"] == "echo" and row["product"] == catalog.product.name
                assert row["subscription"] == catalog.subscription.pk
                assert row["client_ip"] == "127.0.0.1"
                assert row["user_agent"] == "live-test/1.0"
                assert len(row["id"]) == 32 and row["opened_at"]
            text = str(rows)
            assert catalog.key not in text and catalog.subscription.secondary_key not in text

            sent = 0
            for total in (5, 12):  # the counts grow as the connection relays
                while sent < total:
                    await on_a.send(f"hello {sent % 10}")
                    assert await on_a.recv() == f"hello {sent % 10}"
                    sent += 1

                def counted(total=total):
                    [row] = listed(client, "?node=node-a")
                    done = row["messages_up"] == row["messages_down"] == total
                    return row if done else None

                row_a, figures[f"counted_{total}"] = await until(counted, f"{total} counted")
                assert row_a["bytes_up"] == row_a["bytes_down"] == total * len("hello 0")
            [row_b] = await asyncio.to_thread(listed, client, "?node=node-b")

            started = time.monotonic()
            response = await asyncio.to_thread(
                client.delete, f"/api/v1/connections/{row_a['id']}/", {"reason": "maintenance"}
            )
            assert response.status_code == 202, response.content
            assert response.json()["closing"] is True
            assert await closed_with(on_a) == (1008, "maintenance")
            figures["disconnect"] = time.monotonic() - started
            assert figures["disconnect"] < BOUND

            await on_b.send("still here")  # another connection is untouched
            assert await on_b.recv() == "still here"
            _, figures["closed_listed"] = await until(
                lambda: [r["id"] for r in listed(client)] == [row_b["id"]], "the close listed"
            )
        _, figures["client_close_listed"] = await until(
            lambda: listed(client) == [], "the client's close listed"
        )

    run(scenario())
    backend_codes = sorted(seen.closed_code for seen in backend.requests)
    assert backend.wait_closed(backend.requests[0]) and backend.wait_closed(backend.requests[1])
    backend_codes = sorted(seen.closed_code for seen in backend.requests)
    assert 1001 in backend_codes  # the disconnected one; the other closed normally
    audit = [r.getMessage() for r in caplog.records if r.name == "portico.audit"]
    assert any("live connection closed" in line and "maintenance" in line for line in audit)
    print(f"live list figures (s): {figures}")


def test_a_developer_closes_their_own_connection_and_not_anothers(catalog, gateway, backend):
    dev = User.objects.create_user("dev", password="pw")
    other = User.objects.create_user("other", password="pw")
    mine = services.create_subscription(display_name="Mine", owner=dev, product=catalog.product)
    theirs = services.create_subscription(
        display_name="Theirs", owner=other, product=catalog.product
    )
    serve_current_catalog(gateway)
    client = APIClient()
    client.force_login(dev)
    publisher = publisher_client()

    async def scenario():
        base = f"{gateway.ws_url}/echo?subscription-key="
        async with (
            ws_connect(base + mine.primary_key) as own,
            ws_connect(base + theirs.primary_key) as another,
        ):
            rows, _ = await until(count_of(publisher, 2), "both listed")
            by_subscription = {row["subscription"]: row["id"] for row in rows}
            [visible] = await asyncio.to_thread(listed, client)  # only their own
            assert visible["id"] == by_subscription[mine.pk]

            refused = await asyncio.to_thread(
                client.delete, f"/api/v1/connections/{by_subscription[theirs.pk]}/"
            )
            assert refused.status_code == 404
            answer = await asyncio.to_thread(
                client.delete, f"/api/v1/connections/{by_subscription[mine.pk]}/"
            )
            assert answer.status_code == 202
            assert await closed_with(own) == (1008, "closed by the subscriber")
            await another.send("fine")
            assert await another.recv() == "fine"

    run(scenario())


def test_self_hosted_nodes_report_over_http_and_close_on_request(edge, edge_nodes):
    nodes = edge_nodes("edge-1", "edge-2")
    client = publisher_client()
    figures = {}

    async def scenario():
        url = f"/echo?subscription-key={edge.key}"
        async with (
            ws_connect(nodes[0].ws_url + url) as first,
            ws_connect(nodes[1].ws_url + url) as second,
        ):
            rows, figures["opened"] = await until(
                count_of(client, 2, "?api=echo"),
                "both nodes' connections listed",
            )
            assert {row["node"] for row in rows} == {"edge-1", "edge-2"}
            assert {row["gateway"] for row in rows} == {"edge"}
            [row] = [r for r in rows if r["node"] == "edge-2"]
            started = time.monotonic()
            response = await asyncio.to_thread(client.delete, f"/api/v1/connections/{row['id']}/")
            assert response.status_code == 202
            assert await closed_with(second) == (1008, "closed by an administrator")
            figures["disconnect"] = time.monotonic() - started
            await first.send("ok")
            assert await first.recv() == "ok"
            _, figures["closed_listed"] = await until(
                lambda: [r["node"] for r in listed(client)] == ["edge-1"], "close listed"
            )

    run(scenario())
    print(f"self-hosted live list figures (s): {figures}")


def test_a_killed_node_leaves_no_ghosts_and_a_stopped_one_clears_at_once(catalog, two_gateways):
    a, b = two_gateways
    client = publisher_client()
    figures = {}

    async def scenario():
        url = f"/echo?subscription-key={catalog.key}"
        async with ws_connect(a.ws_url + url) as on_a, ws_connect(b.ws_url + url):
            await until(count_of(client, 2), "both listed")
            b.process.kill()  # SIGKILL: no close is ever reported
            await asyncio.to_thread(b.process.wait, 10)
            _, figures["killed_gone"] = await until(
                lambda: [r["node"] for r in listed(client)] == ["node-a"],
                "the killed node's connection unlisted",
                bound=live_services.STALE_SECONDS + 3,
            )
            stopping = asyncio.create_task(asyncio.to_thread(a.stop))  # SIGTERM: drains
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(on_a.recv(), 15)
            _, figures["stopped_gone"] = await until(
                lambda: listed(client) == [], "the stopped node's connection unlisted"
            )
            await stopping

    run(scenario())
    print(f"ghost figures (s): {figures}")


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)")
def test_each_worker_of_a_node_reports_its_own_and_closes_its_own(catalog, server_logs):
    """`--workers 2`: the kernel spreads connections; each is listed under the worker holding it,
    and a close by id reaches that worker and no other connection."""
    node = ServerProcess(
        "gateway",
        server_logs,
        workers=2,
        PORTICO_NODE_ID="multi",
        PORTICO_COUNTERS_TIMEOUT_SECONDS="5",
    )
    client = publisher_client()
    try:
        serve_current_catalog(node)

        async def scenario():
            url = f"{node.ws_url}/echo?subscription-key={catalog.key}"
            opened, rows = [], []
            for _ in range(40):  # until both workers hold one (the kernel picks, not us)
                opened.append(await ws_connect(url))
                rows, _ = await until(count_of(client, len(opened)), "each open listed")
                if len({row["worker"] for row in rows}) == 2:
                    break
            assert len({row["worker"] for row in rows}) == 2
            assert {row["node"] for row in rows} == {"multi"}
            # Rows come in opening order (each was listed before the next opened), as `opened`.
            victims = {row["worker"]: index for index, row in enumerate(rows)}  # one per worker
            for index in victims.values():
                answer = await asyncio.to_thread(
                    client.delete, f"/api/v1/connections/{rows[index]['id']}/"
                )
                assert answer.status_code == 202
            for index, ws in enumerate(opened):
                if index in victims.values():
                    assert await closed_with(ws) == (1008, "closed by an administrator")
                else:
                    await ws.send("kept")
                    assert await ws.recv() == "kept"
                    await ws.close()

        run(scenario())
    finally:
        node.stop()
