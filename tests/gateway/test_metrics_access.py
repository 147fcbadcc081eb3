"""/metrics behind a proxy on the same host: forwarded requests are judged by their client.

Issue 12, item 14: a reverse proxy on the same machine connects from loopback, so without this
every Internet client it forwards could read /metrics.
"""

import urllib.request
import uuid

import pytest

from tests.support.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = f"metrics-token-{uuid.uuid4().hex}"


def get_metrics(server, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"{server.http_url}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module", params=["gateway", "uvicorn"])
def behind_proxy(request, django_db_setup, server_logs):
    """A data-plane node (and the demo's combined server) whose proxy runs on this host
    (loopback is trusted), with a metrics token."""
    server = ServerProcess(
        request.param,
        server_logs,
        PORTICO_TRUSTED_PROXIES="127.0.0.0/8",
        PORTICO_METRICS_TOKEN=TOKEN,
    )
    yield server
    server.stop()


FORWARDED = [
    {"X-Forwarded-For": "203.0.113.9"},
    {"Forwarded": "for=203.0.113.9;proto=https"},
    {"X-Real-IP": "203.0.113.9"},
    {"X-Forwarded-For": "127.0.0.1"},  # forged by a client when the peer is not a trusted proxy
]


@pytest.mark.parametrize("headers", FORWARDED, ids=lambda h: next(iter(h)))
def test_forwarded_requests_from_an_untrusted_loopback_peer_count_as_remote(gateway, headers):
    assert get_metrics(gateway, {}) == 200  # loopback itself may read it (the default)
    assert get_metrics(gateway, headers) == 403


def test_a_trusted_proxy_is_judged_by_the_client_it_forwards(behind_proxy):
    assert get_metrics(behind_proxy, {}) == 200  # the proxy host itself, nothing forwarded
    assert get_metrics(behind_proxy, {"X-Forwarded-For": "203.0.113.9"}) == 401
    assert get_metrics(behind_proxy, {"X-Forwarded-For": "127.0.0.1"}) == 200
    assert get_metrics(behind_proxy, {"X-Forwarded-For": "203.0.113.9, 127.0.0.1"}) == 401
    # Forwarded / X-Real-IP alone do not name the client by the project's rule: remote.
    assert get_metrics(behind_proxy, {"Forwarded": "for=127.0.0.1"}) == 401
    assert get_metrics(behind_proxy, {"X-Real-IP": "203.0.113.9"}) == 401
    auth = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.9"}
    assert get_metrics(behind_proxy, auth) == 200
