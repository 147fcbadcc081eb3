"""The two roles: a gateway node serves only the data plane, the portal only the control plane."""

import json
import subprocess
import sys

import pytest

from tests.support.client import refused, run, ws_connect
from tests.support.servers import ROOT, ServerProcess, serve_current_catalog, server_env

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["/", "/admin/", "/admin/login/", "/accounts/login/", "/api/v1/apis/", "/apis/", "/x"]


@pytest.fixture(scope="module")
def gateway_node(django_db_setup, server_logs):
    server = ServerProcess("gateway", server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def portal(django_db_setup, server_logs):
    server = ServerProcess("portal", server_logs)
    yield server
    server.stop()


async def echo(url: str) -> str:
    async with ws_connect(url) as ws:
        await ws.send("hi")
        return await ws.recv()


def test_gateway_node_relays_and_answers_its_own_endpoints(gateway_node, catalog):
    serve_current_catalog(gateway_node)
    assert run(echo(f"{gateway_node.ws_url}/echo?subscription-key={catalog.key}")) == "hi"
    for path in ("/_portico/status", "/_portico/gateway"):
        status, _, body = gateway_node.get(path)
        assert status == 200 and json.loads(body)["ready"] is True
    status, _, body = gateway_node.get("/metrics")
    assert status == 200 and b"portico_" in body
    status, headers, body = gateway_node.get(f"/_portico/probe/echo?subscription-key={catalog.key}")
    assert status == 200 and json.loads(body)["statusCode"] == 101
    assert headers["access-control-allow-origin"] == "*"  # the portal's console calls it


def test_gateway_node_answers_404_json_for_pages_admin_and_api(gateway_node, catalog):
    for path in PAGES:
        status, headers, body = gateway_node.get(path)
        assert status == 404, path
        assert headers["content-type"] == "application/json"
        assert "gateway node" in json.loads(body)["message"]
        assert b"<html" not in body.lower()


def test_portal_serves_pages_and_refuses_websocket_apis(portal, catalog, backend):
    status, _, body = portal.get("/")
    assert status == 200 and b"<html" in body.lower()
    assert portal.get("/admin/login/")[0] == 200
    assert portal.get("/accounts/login/")[0] == 200
    result = run(refused(f"{portal.ws_url}/echo?subscription-key={catalog.key}"))
    assert result.status == 404
    assert "gateway nodes" in result.body["message"]
    assert backend.requests == []  # the portal never opened a backend connection
    for path in ("/_portico/status", "/_portico/probe/echo", "/metrics"):
        assert portal.get(path)[0] == 404, path


def test_data_plane_never_imports_views_or_the_portal():
    code = (
        "import sys, gateway.asgi; "
        "bad = [m for m in sys.modules if m.startswith(('portal.views', 'portal.urls', "
        "'apis.views', 'apis.api', 'apis.forms', 'rest_framework.views'))]; "
        "print(sorted(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
