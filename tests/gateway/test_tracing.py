"""OpenTelemetry: a real gateway exports its handshake spans to a real OTLP receiver.

The receiver decodes the ExportTraceServiceRequest protobuf messages the gateway's exporter
sends; the real backend records the `traceparent` it was handed, so trace continuation is checked
from the client's header to the backend's.
"""

import json

import pytest

from apis import services
from apis.telemetry.models import ConnectionLog
from tests.support.client import refused, run, ws_connect
from tests.support.otlp import OtlpReceiver
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
SERVER, CLIENT = 2, 3  # OTLP Span.SpanKind values
RATE_LIMIT = (
    '<policies><inbound><check-header name="X-Team" failed-check-httpcode="403" '
    'failed-check-error-message="no team" ignore-case="true"><value>blue</value></check-header>'
    '<rate-limit-by-key calls="1" renewal-period="60" counter-key="traced"/>'
    "</inbound></policies>"
)


@pytest.fixture(scope="module")
def receiver():
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced(django_db_setup, server_logs, receiver):
    """A gateway with tracing on (standard OTEL_* variables), exporting every 100 ms."""
    server = ServerProcess(
        "gateway",
        server_logs,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_SERVICE_NAME="portico-edge-test",
        PORTICO_TELEMETRY_FLUSH_MS="100",
        PORTICO_NODE_ID="node-under-test",
    )
    yield server
    server.stop()


def url(server, key: str) -> str:
    return f"{server.ws_url}/echo?subscription-key={key}"


def spans_of(receiver, trace_id: str, count: int):
    spans = receiver.wait_for(lambda s: len([x for x in s if x.trace_id == trace_id]) >= count)
    found = [x for x in spans if x.trace_id == trace_id]
    return {x.name.split(" ")[1]: x for x in found}, found


def no_key_anywhere(spans, key: str) -> None:
    text = json.dumps([[s.name, s.attributes, s.events, s.resource] for s in spans], default=str)
    assert key not in text


def test_a_clients_trace_is_continued_through_the_gateway_to_the_backend(
    traced, receiver, catalog, backend
):
    serve_current_catalog(traced)
    traceparent = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"

    async def scenario():
        headers = {"traceparent": traceparent, "tracestate": "vendor=kept"}
        async with ws_connect(url(traced, catalog.key), additional_headers=headers) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send("again")
            assert await ws.recv() == "again"
            await ws.close(1000, "done")

    run(scenario())
    by_name, spans = spans_of(receiver, CLIENT_TRACE, 3)
    handshake, backend_span = by_name["handshake"], by_name["backend"]
    connection = by_name["connection"]
    # The handshake continues the client's span; the backend connect is its child.
    assert handshake.parent_span_id == CLIENT_SPAN and handshake.kind == SERVER
    assert backend_span.parent_span_id == handshake.span_id and backend_span.kind == CLIENT
    assert handshake.name == "websocket handshake echo"
    attributes = handshake.attributes
    assert attributes["portico.api"] == "echo" and attributes["portico.api.id"] == catalog.api.id
    assert attributes["portico.product"] == "starter"
    assert attributes["portico.subscription.id"] == catalog.subscription.id
    assert attributes["portico.gateway"] == "managed"
    assert attributes["portico.node"] == "node-under-test"
    assert attributes["http.response.status_code"] == 101
    assert handshake.resource["service.name"] == "portico-edge-test"
    # The backend got the gateway's traceparent: same trace, the backend-connect span as parent.
    seen = backend.requests[-1].headers
    assert seen["traceparent"] == f"00-{CLIENT_TRACE}-{backend_span.span_id}-01"
    assert seen["tracestate"] == "vendor=kept"
    # The connection: opened at accept, closed with its code and counts, linked to the handshake.
    assert connection.parent_span_id == handshake.span_id
    assert connection.links == [(CLIENT_TRACE, handshake.span_id)]
    [(event, close)] = connection.events
    assert event == "websocket.close"
    assert close["websocket.close.code"] == 1000 and close["portico.closed_by"] == "client"
    assert (close["portico.messages_up"], close["portico.messages_down"]) == (2, 2)
    assert (close["portico.bytes_up"], close["portico.bytes_down"]) == (10, 10)
    assert close["portico.duration_ms"] > 0
    # The connection log's correlation id is the trace id: a log line leads to its trace.
    [record] = wait_for(lambda: list(ConnectionLog.objects.filter(api_id=catalog.api.id)))
    assert record.correlation_id == CLIENT_TRACE == seen["x-correlation-id"]
    no_key_anywhere(spans, catalog.key)


def test_without_a_traceparent_the_gateway_starts_the_trace(traced, receiver, catalog, backend):
    serve_current_catalog(traced)

    async def scenario():
        async with ws_connect(url(traced, catalog.key)) as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"

    run(scenario())
    seen = backend.requests[-1].headers
    trace_id = seen["x-correlation-id"]
    version, trace_in_header, parent, flags = seen["traceparent"].split("-")
    assert (version, trace_in_header) == ("00", trace_id)
    assert int(flags, 16) & 1  # sampled (the SDK may set the random-trace-id flag too)
    by_name, _ = spans_of(receiver, trace_id, 3)
    assert by_name["handshake"].parent_span_id == ""  # a root span
    assert by_name["backend"].span_id == parent
    [record] = wait_for(lambda: list(ConnectionLog.objects.filter(api_id=catalog.api.id)))
    assert record.correlation_id == trace_id


def test_refusals_carry_status_reason_and_each_policy_decision(traced, receiver, catalog, backend):
    services.update_api(api=catalog.api, policy_xml=RATE_LIMIT)
    serve_current_catalog(traced)
    team = {"X-Team": "blue"}

    async def scenario():
        async with ws_connect(url(traced, catalog.key), additional_headers=team):
            pass
        limited = await refused(url(traced, catalog.key), additional_headers=team)
        no_team = await refused(url(traced, catalog.key))
        bad_key = await refused(url(traced, "not-the-key-" + catalog.key[-6:]))
        return limited, no_team, bad_key

    limited, no_team, bad_key = run(scenario())
    assert (limited.status, no_team.status, bad_key.status) == (429, 403, 401)
    wanted = {"429": None, "403": None, "401": None}
    spans = receiver.wait_for(
        lambda s: {str(x.attributes.get("http.response.status_code")) for x in s} >= set(wanted)
    )
    handshakes = {
        x.attributes["http.response.status_code"]: x
        for x in spans
        if x.name.startswith("websocket handshake") and x.attributes.get("portico.api") == "echo"
    }
    accepted, limited_span = handshakes[101], handshakes[429]
    assert [e for e in accepted.events if e[0] == "policy"] == [
        ("policy", {"portico.policy": "check-header", "portico.decision": "pass"}),
        ("policy", {"portico.policy": "rate-limit-by-key", "portico.decision": "pass"}),
    ]
    assert limited_span.events == [
        ("policy", {"portico.policy": "check-header", "portico.decision": "pass"}),
        (
            "policy",
            {
                "portico.policy": "rate-limit-by-key",
                "portico.decision": "refuse",
                "http.response.status_code": 429,
            },
        ),
    ]
    assert limited_span.attributes["portico.outcome"] == "refused"
    assert limited_span.attributes["portico.refusal.reason"].startswith("policy refused")
    no_team_span = handshakes[403]
    assert no_team_span.events == [
        (
            "policy",
            {
                "portico.policy": "check-header",
                "portico.decision": "refuse",
                "http.response.status_code": 403,
            },
        )
    ]
    bad_key_span = handshakes[401]
    assert bad_key_span.attributes["portico.api"] == "echo"
    assert "portico.subscription.id" not in bad_key_span.attributes
    assert bad_key_span.attributes["portico.refusal.reason"]
    # A refused handshake never opens the backend: no backend-connect span in its trace.
    assert not [x for x in spans if x.trace_id == bad_key_span.trace_id and x is not bad_key_span]
    no_key_anywhere(spans, catalog.key)
    no_key_anywhere(spans, "not-the-key-")


def test_a_backend_that_is_down_ends_both_spans_as_errors(traced, receiver, catalog):
    services.update_api(api=catalog.api, backend_url="ws://127.0.0.1:9/down")
    serve_current_catalog(traced)
    failed = run(refused(url(traced, catalog.key)))
    assert failed.status == 502
    spans = receiver.wait_for(
        lambda s: any(x.attributes.get("http.response.status_code") == 502 for x in s)
    )
    [handshake] = [x for x in spans if x.attributes.get("http.response.status_code") == 502]
    [backend_span] = [x for x in spans if x.parent_span_id == handshake.span_id]
    assert backend_span.name == "websocket backend connect"
    assert handshake.status_code == backend_span.status_code == 2  # STATUS_CODE_ERROR
    assert backend_span.attributes["server.address"] == "127.0.0.1:9"


def test_tracing_is_off_without_an_endpoint(gateway, catalog, backend):
    """The shared gateway has no OTEL endpoint: a client's traceparent passes unchanged and the
    correlation id is the gateway's own."""
    serve_current_catalog(gateway)
    traceparent = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"

    async def scenario():
        headers = {"traceparent": traceparent}
        async with ws_connect(url(gateway, catalog.key), additional_headers=headers) as ws:
            await ws.send("x")
            await ws.recv()

    run(scenario())
    seen = backend.requests[-1].headers
    assert seen["traceparent"] == traceparent
    assert seen["x-correlation-id"] != CLIENT_TRACE


def test_an_unsampled_handshake_exports_nothing_but_still_passes_the_trace_on(
    django_db_setup, server_logs, receiver, catalog, backend
):
    server = ServerProcess(
        "gateway",
        server_logs,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_TRACES_SAMPLER="always_off",
    )
    try:
        serve_current_catalog(server)

        async def scenario():
            async with ws_connect(url(server, catalog.key)) as ws:
                await ws.send("quiet")
                assert await ws.recv() == "quiet"

        run(scenario())
        seen = backend.requests[-1].headers
        _, trace_id, _, flags = seen["traceparent"].split("-")
        assert trace_id == seen["x-correlation-id"] and not int(flags, 16) & 1
        [record] = wait_for(lambda: list(ConnectionLog.objects.filter(api_id=catalog.api.id)))
        assert record.correlation_id == trace_id
    finally:
        server.stop()
    assert not [s for s in receiver.spans if s.trace_id == trace_id]
