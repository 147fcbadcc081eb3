"""Telemetry survives outages: batches wait in a bounded spool and arrive when writes work again.

Before the spool, a batch whose write failed was dropped: 10 records were lost in a 22 s database
outage, and the log blamed a full buffer.
"""

import asyncio
import json
import logging
import stat

import pytest
from django.db import connection

from apis import selectors
from apis.telemetry.models import ConnectionLog, TelemetryBatch
from gateway.refusal import Refusal
from gateway.telemetry.recorder import Recorder
from gateway.telemetry.spool import MemorySpool
from tests.support.client import refused, run, ws_connect
from tests.support.nodes import start_control_plane
from tests.support.outage import database_outage
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"PORTICO_TELEMETRY_FLUSH_MS": "200"}
SCOPE = {"path": "/echo", "client": ("127.0.0.1", 5000), "headers": [(b"user-agent", b"t/1")]}


async def echo(url: str) -> None:
    async with ws_connect(url) as ws:
        await ws.send("hi")
        await ws.recv()


def test_records_made_during_a_22s_database_outage_are_all_written_after_it(catalog, server_logs):
    server = ServerProcess("gateway", server_logs, **FAST)
    try:
        serve_current_catalog(server)
        url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
        # On SQLite a write waits out its 20 s busy timeout before it fails, and the server's
        # first heartbeat may hold its one database thread for those 20 s: a write queued behind
        # it would only start near the end of a 22 s lock and then succeed without ever failing.
        with database_outage(45 if connection.vendor == "sqlite" else 22):
            for _ in range(5):
                run(echo(url))
            for _ in range(5):
                assert run(refused(f"{server.ws_url}/echo")).status == 401
        written = wait_for(lambda: ConnectionLog.objects.count() >= 10 or None, timeout=60)
        assert written, f"{ConnectionLog.objects.count()} of 10 records arrived"
        assert (
            sorted(ConnectionLog.objects.values_list("status", flat=True)) == [101] * 5 + [401] * 5
        )
        output = server.output()
        assert "telemetry write failed" in output and "kept in the spool" in output
        assert "buffer full" not in output and "spool full" not in output
    finally:
        server.stop()


def test_a_self_hosted_node_keeps_records_on_disk_until_the_control_plane_returns(
    edge, start_edge_node, tmp_path, server_logs
):
    control = start_control_plane(server_logs)
    port = control.port
    node = start_edge_node(control, **FAST)
    try:
        node.wait_for_revision(selectors.catalog_revision())  # and saved it to disk
        control.stop()
        for _ in range(3):
            run(echo(f"{node.ws_url}/echo?subscription-key={edge.key}"))
        spool = tmp_path / "telemetry-spool-edge"
        files = wait_for(lambda: sorted(spool.glob("*.json")), timeout=15)
        assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
        assert all(edge.key not in f.read_text() for f in files)

        node.stop()  # the spool outlives the process
        node = start_edge_node(control, **FAST)  # starts from its saved configuration
        assert ConnectionLog.objects.count() == 0
        control = start_control_plane(server_logs, port=port)
        arrived = wait_for(lambda: ConnectionLog.objects.count() >= 3 or None, timeout=40)
        assert arrived, f"{ConnectionLog.objects.count()} of 3 records arrived"
        assert set(ConnectionLog.objects.values_list("gateway", "status")) == {("edge", 101)}
        assert wait_for(lambda: not list(spool.glob("*.json")), timeout=15)
    finally:
        node.stop()
        control.stop()


def test_a_batch_sent_twice_is_stored_once_and_only_under_the_tokens_gateway(edge, client):
    batch = {
        "batch_id": "b" * 32,
        "records": [
            {
                "correlation_id": "c" * 32,
                "gateway": "someone-else",
                "api_name": "echo",
                "path": "/echo",
                "started_at": "2026-01-01T10:00:00+00:00",
                "ended_at": "2026-01-01T10:00:01+00:00",
                "state": "accepted",
                "status": 101,
            }
        ],
        "usage": [],
        "refusals": [],
    }
    url = "/_portico/gateways/v1/telemetry"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {edge.token}"}
    body = json.dumps(batch)
    assert client.post(url, body, content_type="application/json").status_code == 401
    first = client.post(url, body, content_type="application/json", **auth)
    again = client.post(url, body, content_type="application/json", **auth)
    assert (first.json()["stored"], again.json()["stored"]) == (True, False)
    assert list(ConnectionLog.objects.values_list("gateway", flat=True)) == ["edge"]
    assert TelemetryBatch.objects.count() == 1
    bad = client.post(url, "{}", content_type="application/json", **auth)
    assert bad.status_code == 400


def test_only_a_full_spool_drops_and_it_says_so(caplog):
    async def scenario():
        async def unreachable(**batch):
            raise ConnectionRefusedError("control plane down")

        recorder = Recorder(
            gateway="g1",
            writer=unreachable,
            buffer_size=100,
            batch_size=2,
            flush_ms=10_000,
            spool=MemorySpool(max_records=5),
        )
        for i in range(8):
            recorder.begin(SCOPE, f"{i:032x}").refused(Refusal(401, "no key"))
        await recorder.flush(force=True)
        recorder.stop()
        return recorder

    with caplog.at_level(logging.WARNING, logger="portico.telemetry"):
        recorder = asyncio.run(asyncio.wait_for(scenario(), 30))

    assert recorder.spool.records == 4 and recorder.dropped == 4  # batches of 2: 2 fit
    registry = recorder.metrics.registry
    labels = {"gateway": "g1"}
    assert (
        registry.get_sample_value("portico_telemetry_spool_full_dropped_records_total", labels) == 4
    )
    assert registry.get_sample_value("portico_telemetry_spooled_records", labels) == 4
    messages = [r.getMessage() for r in caplog.records]
    assert any("telemetry spool full" in m for m in messages)
    assert not any("buffer full" in m for m in messages)
    assert any("telemetry write failed" in m and "kept in the spool" in m for m in messages)
