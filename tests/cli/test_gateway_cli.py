"""`portico gateway create` and `portico gateway token`: a self-hosted gateway without a browser."""

import json
import re
import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import User

from apis import services
from apis.models import Gateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_token() -> str:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    return services.create_access_token(user=admin, name="cli")[1]


def test_gateway_create_with_its_apis(portico):
    for name in ("chat", "feed"):
        services.create_api(display_name=name, backend_url="ws://b.example/", url_suffix=name)
    done = portico("gateway", "create", "edge", "--api", "chat", "--api", "feed")
    assert done.code == 0, done.err
    edge = Gateway.objects.get(name="edge")
    assert edge.kind == Gateway.Kind.SELF_HOSTED
    assert sorted(edge.apis.values_list("name", flat=True)) == ["chat", "feed"]
    assert re.search(r"^kind +self_hosted$", done.out, re.M), done.out

    managed = portico("--json", "gateway", "create", "dc2", "--kind", "managed")
    assert managed.code == 0 and json.loads(managed.out)["kind"] == "managed"

    refused = portico("gateway", "create", "edge")
    assert refused.code == 1
    assert refused.err.startswith("portico: error: 400 name: ") and refused.err.count("\n") == 1


def node_config_status(base_url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/_portico/gateways/v1/config", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gateway_token_prints_a_working_node_token_once_with_the_start_commands(
    portico, admin_token, gateway
):
    services.create_gateway(name="edge")
    done = portico("gateway", "token", "edge", PORTICO_TOKEN=admin_token)
    assert done.code == 0, done.err
    token = re.search(r"^export PORTICO_GATEWAY_TOKEN=(pgw_\S+)$", done.out, re.M).group(1)
    assert "export PORTICO_GATEWAY=edge\n" in done.out
    assert f"export PORTICO_CONTROL_URL={gateway.http_url}\n" in done.out
    assert "python manage.py run_gateway" in done.out and "shown once" in done.out
    assert node_config_status(gateway.http_url, token) == 200  # the node endpoints take it

    secondary = json.loads(
        portico("--json", "gateway", "token", "edge", "--secondary", PORTICO_TOKEN=admin_token).out
    )
    assert secondary["token"] == "secondary"
    assert node_config_status(gateway.http_url, secondary["value"]) == 200
    assert node_config_status(gateway.http_url, token) == 200  # the primary still works

    again = portico("gateway", "token", "edge", PORTICO_TOKEN=admin_token)
    assert node_config_status(gateway.http_url, token) == 401  # replaced: refused at once
    assert "PORTICO_GATEWAY_TOKEN=pgw_" in again.out


def test_only_admins_may_make_node_tokens(portico):
    services.create_gateway(name="edge")
    done = portico("gateway", "token", "edge")  # the fixture's token is a publisher's
    assert done.code == 1 and done.err.startswith("portico: error: 403 ")
