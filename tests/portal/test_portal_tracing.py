"""The portal's requests are traced (Django instrumentation) when an OTLP endpoint is set."""

import urllib.request

import pytest

from tests.support.otlp import OtlpReceiver
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN = "b7ad6b7169203331"


def test_a_portal_request_is_a_span_that_continues_the_callers_trace(server_logs):
    receiver = OtlpReceiver().start()
    portal = ServerProcess(
        "portal",
        server_logs,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    try:
        request = urllib.request.Request(
            f"{portal.http_url}/accounts/login/?next=/portal/&token=secret-in-query",
            headers={"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        spans = receiver.wait_for(lambda s: any(x.trace_id == CLIENT_TRACE for x in s))
    finally:
        portal.stop()
        receiver.stop()
    [span] = [x for x in spans if x.trace_id == CLIENT_TRACE]
    assert span.parent_span_id == CLIENT_SPAN and span.kind == 2  # SERVER
    assert span.resource["service.name"] == "portico-portal"
    assert span.attributes["http.route"] == "accounts/login/"
    assert span.attributes["http.status_code"] == 200
    assert "secret-in-query" not in repr(span.attributes)
