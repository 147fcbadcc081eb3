"""Real connections through a real gateway leave exact records, per-minute figures and metrics."""

import asyncio
import json
import urllib.request
import uuid

import pytest
from django.db.models import Sum
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.telemetry.models import ConnectionLog, RefusalMinute, UsageMinute
from tests.support.backend import free_port
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import fetch_metrics, parse_metrics, value, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = f"metrics-token-{uuid.uuid4().hex}"
AGENT = "telemetry-test/1.0"
RATE_LIMIT = (
    '<policies><inbound><rate-limit-by-key calls="1" renewal-period="60" '
    'counter-key="somethingunique"/></inbound></policies>'
)


@pytest.fixture(scope="module")
def recorded(django_db_setup, server_logs):
    """A gateway that flushes every 100 ms, logs JSON and guards /metrics with a token only."""
    server = ServerProcess(
        "gateway",
        server_logs,
        PORTICO_TELEMETRY_FLUSH_MS="100",
        PORTICO_LOG_JSON="1",
        PORTICO_METRICS_TOKEN=TOKEN,
        PORTICO_METRICS_ALLOWED_NETWORKS="",
    )
    yield server
    server.stop()


def scrape(server) -> dict:
    status, text = fetch_metrics(server, TOKEN)
    assert status == 200, text
    return parse_metrics(text)


def records_of(api, count: int) -> list[ConnectionLog]:
    rows = wait_for(
        lambda: (
            (found := list(ConnectionLog.objects.filter(api_id=api.id).order_by("id")))
            and len(found) >= count
            and found
        )
    )
    assert rows and len(rows) == count, f"expected {count} records, found {rows}"
    return rows


def usage_of(api) -> dict:
    fields = ["accepted", "refused", "backend_failed", "messages_up", "bytes_up"]
    fields += ["messages_down", "bytes_down", "handshake_count"]
    return UsageMinute.objects.filter(api_id=api.id).aggregate(**{f: Sum(f) for f in fields})


def refusals_of(api) -> dict[tuple, int]:
    counts: dict[tuple, int] = {}
    for row in RefusalMinute.objects.filter(api_id=api.id):
        key = (row.state, row.status)
        counts[key] = counts.get(key, 0) + row.count
    return counts


def assert_no_secrets(server, *secrets: str) -> None:
    """Neither the server's log, nor any record, nor /metrics holds a key or token."""
    rows = [json.dumps(list(r.values()), default=str) for r in ConnectionLog.objects.values()]
    rows += [json.dumps(list(r.values()), default=str) for r in UsageMinute.objects.values()]
    outputs = {"log": server.output(), "records": "\n".join(rows)}
    outputs["metrics"] = fetch_metrics(server, TOKEN)[1]
    for secret in (*secrets, TOKEN):
        for where, text in outputs.items():
            if where == "metrics" and secret == TOKEN:
                continue
            assert secret not in text, f"a secret leaked into the {where}"


def url(server, key: str, path: str = "/echo") -> str:
    return f"{server.ws_url}{path}?subscription-key={key}"


def test_client_close_1000_leaves_one_exact_record_and_figures(recorded, catalog, backend):
    serve_current_catalog(recorded)
    before = scrape(recorded)

    async def scenario():
        async with ws_connect(url(recorded, catalog.key), user_agent_header=AGENT) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01\x02")
            assert await ws.recv() == b"\x00\x01\x02"
            await asyncio.sleep(0.4)  # several flushes while it is open: sampled as active
            await ws.close(1000, "done")

    run(scenario())
    [record] = records_of(catalog.api, 1)
    assert record.correlation_id == backend.requests[-1].headers["x-correlation-id"]
    assert (record.state, record.status, record.reason, record.error) == ("accepted", 101, "", "")
    assert (record.gateway, record.api_name, record.path) == ("managed", "echo", "/echo")
    assert (record.product_id, record.product_name) == (catalog.product.id, "starter")
    assert record.subscription_id == catalog.subscription.id
    assert record.subscription_name == "Test subscription"
    assert (record.client_ip, record.user_agent) == ("127.0.0.1", AGENT)
    assert (record.closed_by, record.close_code, record.close_reason) == ("client", 1000, "done")
    assert (record.messages_up, record.bytes_up, record.messages_down, record.bytes_down) == (
        2,
        8,
        2,
        8,
    )
    assert 0 < record.backend_connect_ms <= record.handshake_ms < record.duration_ms
    assert record.duration_ms >= 400 and record.ended_at > record.started_at

    figures = wait_for(lambda: (u := usage_of(catalog.api))["bytes_down"] == 8 and u)
    assert figures == {
        "accepted": 1,
        "refused": 0,
        "backend_failed": 0,
        "messages_up": 2,
        "bytes_up": 8,
        "messages_down": 2,
        "bytes_down": 8,
        "handshake_count": 1,
    }
    active = UsageMinute.objects.filter(api_id=catalog.api.id).order_by("-active_max").first()
    assert active.active_max == 1 and active.subscription_id == catalog.subscription.id

    after = scrape(recorded)
    delta = lambda name, **labels: (  # noqa: E731
        value(after, name, gateway="managed", api="echo", **labels)
        - value(before, name, gateway="managed", api="echo", **labels)
    )
    assert delta("portico_connection_attempts_total", state="accepted", status="101") == 1
    assert delta("portico_messages_total", direction="up") == 2
    assert delta("portico_message_bytes_total", direction="down") == 8
    assert delta("portico_connection_closes_total", closed_by="client") == 1
    assert delta("portico_handshake_seconds_count") == 1
    assert value(after, "portico_active_connections", gateway="managed", api="echo") == 0
    assert_no_secrets(recorded, catalog.key, catalog.subscription.secondary_key)


def test_backend_close_4001_and_a_vanishing_client_are_recorded_by_side(recorded, catalog, backend):
    serve_current_catalog(recorded)
    before = scrape(recorded)

    async def backend_closes():
        async with ws_connect(url(recorded, catalog.key)) as ws:
            await ws.send("!close 4001 bye now")
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code

    async def client_vanishes():
        ws = await ws_connect(url(recorded, catalog.subscription.secondary_key))
        await ws.send("hi")
        assert await ws.recv() == "hi"
        ws.transport.abort()  # TCP reset, no close frame

    assert run(backend_closes()) == 4001
    run(client_vanishes())
    by_backend, by_client = records_of(catalog.api, 2)
    assert (by_backend.closed_by, by_backend.close_code, by_backend.close_reason) == (
        "backend",
        4001,
        "bye now",
    )
    assert (by_backend.messages_up, by_backend.bytes_up, by_backend.messages_down) == (1, 19, 0)
    assert (by_client.closed_by, by_client.close_code) == ("client", 1006)
    assert (by_client.messages_up, by_client.bytes_down) == (1, 2)
    assert by_client.subscription_id == catalog.subscription.id  # the secondary key: same one

    figures = wait_for(lambda: (u := usage_of(catalog.api))["bytes_up"] == 21 and u)
    assert (figures["accepted"], figures["messages_up"], figures["messages_down"]) == (2, 2, 1)
    after = scrape(recorded)
    for side in ("backend", "client"):
        labels = {"gateway": "managed", "api": "echo", "closed_by": side}
        got = value(after, "portico_connection_closes_total", **labels)
        assert got - value(before, "portico_connection_closes_total", **labels) == 1
    assert_no_secrets(recorded, catalog.key, catalog.subscription.secondary_key)


def test_refusals_401_429_and_502_are_recorded_with_status_and_subscription(
    recorded, catalog, backend
):
    services.update_api(api=catalog.api, policy_xml=RATE_LIMIT)
    serve_current_catalog(recorded)
    before = scrape(recorded)
    wrong_key = f"wrong-{uuid.uuid4().hex}"

    async def first_then_limited():
        async with ws_connect(url(recorded, catalog.key)) as ws:
            await ws.send("one")
            await ws.recv()
        return await refused(url(recorded, catalog.key))

    missing = run(refused(f"{recorded.ws_url}/echo"))
    wrong = run(refused(url(recorded, wrong_key)))
    limited = run(first_then_limited())
    assert (missing.status, wrong.status, limited.status) == (401, 401, 429)

    services.update_api(
        api=catalog.api, policy_xml="", backend_url=f"ws://127.0.0.1:{free_port()}/down"
    )
    serve_current_catalog(recorded)
    down = run(refused(url(recorded, catalog.key)))
    assert down.status == 502

    rows = records_of(catalog.api, 5)
    by_correlation = {r.correlation_id: r for r in rows}
    r401a = by_correlation[missing.body["correlationId"]]
    r401b = by_correlation[wrong.body["correlationId"]]
    r429 = by_correlation[limited.body["correlationId"]]
    r502 = by_correlation[down.body["correlationId"]]
    assert (r401a.state, r401a.status, r401a.reason) == ("refused", 401, "missing subscription key")
    assert (r401b.state, r401b.status, r401b.reason) == ("refused", 401, "invalid subscription key")
    assert r401a.subscription_id is None and r401b.subscription_id is None
    assert (r429.state, r429.status, r429.subscription_id) == (
        "refused",
        429,
        catalog.subscription.id,
    )
    assert "policy refused" in r429.reason and r429.backend_connect_ms is None
    assert (r502.state, r502.status, r502.subscription_id) == (
        "backend_failed",
        502,
        catalog.subscription.id,
    )
    assert "unreachable" in r502.error and r502.backend_connect_ms is not None
    for r in (r401a, r429, r502):
        assert r.close_code is None and r.messages_up == 0 and r.api_name == "echo"

    figures = wait_for(lambda: (u := usage_of(catalog.api))["backend_failed"] == 1 and u)
    assert (figures["accepted"], figures["refused"], figures["backend_failed"]) == (1, 3, 1)
    assert refusals_of(catalog.api) == {
        ("refused", 401): 2,
        ("refused", 429): 1,
        ("backend_failed", 502): 1,
    }
    after = scrape(recorded)
    for state, status, n in (
        ("refused", "401", 2),
        ("refused", "429", 1),
        ("backend_failed", "502", 1),
        ("accepted", "101", 1),
    ):
        labels = {"gateway": "managed", "api": "echo", "state": state, "status": status}
        got = value(after, "portico_connection_attempts_total", **labels)
        assert got - value(before, "portico_connection_attempts_total", **labels) == n, state

    # the gateway's own lines are JSON, carry the correlation id and never the wrong key
    lines = [json.loads(line) for line in recorded.output().splitlines() if line.startswith("{")]
    refusal_lines = [e for e in lines if e.get("correlation_id") == wrong.body["correlationId"]]
    assert refusal_lines and "handshake refused status=401" in refusal_lines[0]["message"]
    assert_no_secrets(recorded, catalog.key, wrong_key)


def test_the_probe_is_not_recorded(recorded, catalog, backend):
    serve_current_catalog(recorded)
    probe = f"{recorded.http_url}/_portico/probe/echo?subscription-key={catalog.key}"
    with urllib.request.urlopen(probe, timeout=10) as response:  # noqa: S310 - loopback
        answer = json.load(response)
    assert answer["statusCode"] == 101
    run(refused(f"{recorded.ws_url}/echo"))  # one real attempt, flushed after the probe's
    [record] = records_of(catalog.api, 1)
    assert record.status == 401
    assert not ConnectionLog.objects.filter(correlation_id=answer["correlationId"]).exists()


def test_metrics_need_the_token_here_and_loopback_suffices_by_default(recorded, gateway):
    assert fetch_metrics(recorded)[0] == 401
    assert fetch_metrics(recorded, "not-the-token")[0] == 401
    status, text = fetch_metrics(recorded, TOKEN)
    assert status == 200 and "portico_connection_attempts_total" in text
    status, text = fetch_metrics(gateway)  # the default: loopback may read it
    assert status == 200 and "# TYPE portico_active_connections gauge" in text


def test_the_open_connections_gauge_is_exact_after_opens_closes_and_aborts(
    recorded, catalog, backend
):
    """The gauge and `active_max` are kept as connections open and close, never by a scan: after
    clean closes, TCP aborts on either side and a refusal they still match what is really open."""
    serve_current_catalog(recorded)

    def gauge() -> float:
        return value(scrape(recorded), "portico_active_connections", gateway="managed", api="echo")

    async def scenario():
        sockets = [await ws_connect(url(recorded, catalog.key)) for _ in range(6)]
        for ws in sockets:  # every connection is through to the backend
            await ws.send("hi")
            assert await ws.recv() == "hi"
        opened = (await asyncio.to_thread(gauge), backend.open_connections)
        await sockets[0].close(1000, "done")
        sockets[1].transport.abort()  # the client vanishes: no close frame
        sockets[2].transport.abort()
        await sockets[3].send("!drop")  # the backend vanishes: no close frame
        await sockets[4].send("!close 4001 bye")
        for ws in sockets[3:5]:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert (await refused(url(recorded, "not-a-key"))).status == 401
        settled = await asyncio.to_thread(
            wait_for, lambda: gauge() == 1 and backend.open_connections == 1
        )
        left = (await asyncio.to_thread(gauge), backend.open_connections)
        await sockets[5].close()
        return opened, settled, left

    opened, settled, left = run(scenario())
    assert opened == (6, 6)
    assert settled, "the gauge never came back to the one connection still open"
    assert left == (1, 1)
    assert wait_for(lambda: gauge() == 0 and backend.open_connections == 0)
    peak = wait_for(
        lambda: (
            (row := UsageMinute.objects.filter(api_id=catalog.api.id).order_by("-active_max"))
            and row.first().active_max == 6
        )
    )
    assert peak, "active_max must be the six open at once"
    # Every record is written before the test ends: one arriving after the database is emptied
    # for the next test would be counted there.
    statuses = [record.status for record in records_of(catalog.api, 7)]
    assert sorted(statuses) == [101] * 6 + [401]
