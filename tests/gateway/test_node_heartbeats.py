"""Heartbeats: every gateway process reports itself; the gateway page lists its nodes."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apis import selectors
from apis.models import GatewayNode, hash_node_token
from tests.support.client import ws_connect
from tests.support.servers import ServerProcess
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BEAT = {"PORTICO_HEARTBEAT_SECONDS": "0.3"}


def node_row(gateway, node_id: str, **match):
    def read():
        row = GatewayNode.objects.filter(gateway__name=gateway, node_id=node_id).first()
        if row is not None and all(getattr(row, k) == v for k, v in match.items()):
            return row
        return None

    return wait_for(read, timeout=15)


def test_a_self_hosted_node_reports_and_shows_on_the_gateway_page(
    control, edge, start_edge_node, publisher
):
    node = start_edge_node(control, PORTICO_NODE_ID="edge-1", **BEAT)
    try:
        revision = selectors.catalog_revision()
        node.wait_for_revision(revision)

        release = threading.Event()
        holder = threading.Thread(
            target=hold_open, args=(f"{node.ws_url}/echo?subscription-key={edge.key}", release)
        )
        holder.start()
        try:
            row = node_row("edge", "edge-1", open_connections=1, revision=revision)
        finally:
            release.set()
            holder.join(30)
        assert row is not None, list(GatewayNode.objects.values())
        assert row.version.startswith("portico-") and row.workers == 1 and row.last_error == ""

        page = publisher.get("/publisher/gateways/edge/").content.decode()
        assert 'data-node="edge-1"' in page and "Online" in page
        assert f"revision {revision}" in page and "(current)" in page
        assert edge.token not in page  # the token is never shown again
    finally:
        node.stop()


def hold_open(url: str, release: threading.Event) -> None:
    """Keep one relayed connection open (in this thread's own loop) until `release` is set."""

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("hi")
            await ws.recv()
            while not release.is_set():
                await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_managed_process_reports_to_the_database(catalog, server_logs):
    server = ServerProcess("gateway", server_logs, PORTICO_NODE_ID="managed-1", **BEAT)
    try:
        row = node_row("managed", "managed-1", revision=server.status()["revision"])
        assert row is not None, list(GatewayNode.objects.values())
        catalog.gateway.refresh_from_db()
        assert catalog.gateway.node_count == 1 and catalog.gateway.last_seen_at is not None
    finally:
        server.stop()


def test_a_silent_node_is_shown_as_stale(edge, publisher):
    GatewayNode.objects.create(
        gateway=edge.gateway,
        node_id="edge-old",
        worker="1",
        revision=1,
        last_seen_at=timezone.now() - timedelta(minutes=5),
        last_error="control plane unreachable",
    )
    page = publisher.get("/publisher/gateways/edge/").content.decode()
    row = page.split('data-node="edge-old"')[1].split("</tr>")[0]
    assert "Stale" in row and "Online" not in row and "control plane unreachable" in row
    assert "behind" in row


def test_heartbeat_endpoint_needs_the_node_token_and_checks_the_report(edge, client):
    url = "/_portico/gateways/v1/heartbeat"
    report = {"node_id": "n1", "worker": "7", "revision": 3, "open_connections": 2}
    body = json.dumps(report)
    assert client.post(url, body, content_type="application/json").status_code == 401
    wrong = {"HTTP_AUTHORIZATION": "Bearer pgw_nope"}
    assert client.post(url, body, content_type="application/json", **wrong).status_code == 401
    auth = {"HTTP_AUTHORIZATION": f"Bearer {edge.token}"}
    bad = json.dumps({**report, "open_connections": -1})
    assert client.post(url, bad, content_type="application/json", **auth).status_code == 400
    assert client.post(url, body, content_type="application/json", **auth).status_code == 200
    row = GatewayNode.objects.get(node_id="n1")
    assert (row.gateway, row.open_connections, row.revision) == (edge.gateway, 2, 3)


def test_regenerating_the_token_on_the_page_asks_first_then_shows_it_once(edge, publisher):
    url = "/publisher/gateways/edge/token/"
    before = edge.gateway.primary_token_hash
    confirm = publisher.post(url, {"which": "primary"})
    assert confirm.status_code == 200 and b"Regenerate the primary token" in confirm.content
    edge.gateway.refresh_from_db()
    assert edge.gateway.primary_token_hash == before  # nothing changed yet

    shown = publisher.post(url, {"which": "primary", "confirm": "yes"})
    page = shown.content.decode()
    token = page.split('<pre class="code" id="node-token">')[1].split("</pre>")[0]
    assert shown["Cache-Control"] == "no-store"
    assert f"export PORTICO_GATEWAY_TOKEN={token}" in page
    assert "manage.py run_gateway --host 0.0.0.0 --port 8000 --workers 2" in page
    assert "export PORTICO_CONTROL_URL=http://testserver" in page
    edge.gateway.refresh_from_db()
    assert edge.gateway.primary_token_hash == hash_node_token(token)
    assert selectors.gateway_for_node_token(edge.token) is None  # the old token is refused
    assert token not in publisher.get("/publisher/gateways/edge/").content.decode()


def test_only_administrators_regenerate_node_tokens(edge, client):
    from django.contrib.auth.models import Group

    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Publishers")[0])
    client.force_login(user)
    assert client.get("/publisher/gateways/edge/").status_code == 200
    response = client.post(
        "/publisher/gateways/edge/token/", {"which": "primary", "confirm": "yes"}
    )
    assert response.status_code == 403
    edge.gateway.refresh_from_db()
    assert selectors.gateway_for_node_token(edge.token) == edge.gateway  # unchanged


def test_the_rest_api_lists_a_gateways_nodes(edge, publisher):
    GatewayNode.objects.create(
        gateway=edge.gateway,
        node_id="edge-1",
        worker="11",
        workers=2,
        open_connections=3,
        revision=selectors.catalog_revision(),
        last_seen_at=timezone.now(),
    )
    [node] = publisher.get("/api/v1/gateways/edge/nodes/").json()
    assert node["node_id"] == "edge-1" and node["online"] and node["revision_current"]
    assert (node["open_connections"], node["workers"], node["workers_reporting"]) == (3, 2, 1)
