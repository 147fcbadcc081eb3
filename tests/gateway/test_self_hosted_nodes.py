"""Self-hosted nodes: no database, configuration pulled from the control plane, fail static."""

import json
import stat
import subprocess
import sys
import threading

import pytest

from apis import selectors, services
from apis.models import Gateway
from tests.support.client import refused, run, ws_connect
from tests.support.nodes import http, start_control_plane
from tests.support.servers import ROOT, server_env

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = "/_portico/gateways/v1/config"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def echo(url: str) -> str:
    async with ws_connect(url) as ws:
        await ws.send("hi")
        return await ws.recv()


def test_config_answers_only_the_tokens_own_gateway_and_never_a_key(control, edge):
    url = control.http_url + CONFIG
    refusals = [http(url), http(url, headers=bearer("pgw_wrong")), http(url, headers=bearer(""))]
    assert {(status, body) for status, _h, body in refusals} == {
        (401, b'{"error": "invalid node token"}')
    }

    status, headers, body = http(url, headers=bearer(edge.token))
    assert status == 200
    assert headers["etag"] == f'"{selectors.catalog_revision()}"'
    assert headers["x-portico-gateway"] == "edge"
    text = body.decode()
    sub = edge.subscription
    assert sub.primary_key not in text and sub.secondary_key not in text
    config = json.loads(text)
    assert [api["url_suffix"] for api in config["apis"]] == ["echo"]
    [entry] = config["subscriptions"]
    secret = config["key_hash_secret"]
    assert entry["primary_key_hash"] == selectors.subscription_key_hash(secret, sub.primary_key)
    assert entry["secondary_key_hash"] == selectors.subscription_key_hash(secret, sub.secondary_key)

    other = services.create_gateway(name="other", kind=Gateway.Kind.SELF_HOSTED)
    other_token = services.regenerate_gateway_token(gateway=other, which="secondary")
    status, headers, body = http(url, headers=bearer(other_token))
    assert (status, headers["x-portico-gateway"]) == (200, "other")
    assert json.loads(body)["apis"] == []  # echo is not on "other"


def test_long_poll_answers_304_unchanged_and_200_as_soon_as_the_catalog_changes(control, edge):
    url = control.http_url + CONFIG
    _status, headers, _body = http(url, headers=bearer(edge.token))
    etag = headers["etag"]
    unchanged = http(f"{url}?wait=0.5", headers={**bearer(edge.token), "If-None-Match": etag})
    assert unchanged[0] == 304 and unchanged[1]["etag"] == etag

    answers = []
    poll = threading.Thread(
        target=lambda: answers.append(
            http(f"{url}?wait=30", headers={**bearer(edge.token), "If-None-Match": etag})
        )
    )
    poll.start()
    services.suspend_subscription(subscription=edge.subscription)
    poll.join(40)
    [(status, headers, body)] = answers
    assert status == 200 and headers["etag"] == f'"{selectors.catalog_revision()}"' != etag
    assert json.loads(body)["subscriptions"][0]["state"] == "suspended"


def test_a_regenerated_token_is_refused_at_once(control, edge):
    url = control.http_url + CONFIG
    assert http(url, headers=bearer(edge.token))[0] == 200
    new = services.regenerate_gateway_token(gateway=edge.gateway, which="primary")
    assert http(url, headers=bearer(edge.token))[0] == 401
    assert http(url, headers=bearer(new))[0] == 200


def test_node_serves_without_a_database_and_follows_changes(
    control, edge, start_edge_node, tmp_path
):
    node = start_edge_node(control)
    try:
        node.wait_for_revision(selectors.catalog_revision())
        assert run(echo(f"{node.ws_url}/echo?subscription-key={edge.key}")) == "hi"
        assert run(refused(f"{node.ws_url}/echo?subscription-key=nope")).status == 401

        saved = tmp_path / "gateway-edge.config.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        on_disk = saved.read_text()
        assert edge.key not in on_disk and edge.subscription.secondary_key not in on_disk

        services.suspend_subscription(subscription=edge.subscription)
        node.wait_for_revision(selectors.catalog_revision())
        assert run(refused(f"{node.ws_url}/echo?subscription-key={edge.key}")).status == 403
        assert edge.key not in node.output()
    finally:
        node.stop()


def test_node_starts_from_its_saved_configuration_while_the_control_plane_is_down(
    edge, start_edge_node, server_logs
):
    control = start_control_plane(server_logs)
    port = control.port
    node = start_edge_node(control)
    try:
        node.wait_for_revision(selectors.catalog_revision())
        node.stop()
        control.stop()

        node = start_edge_node(control)  # the control plane is down
        assert run(echo(f"{node.ws_url}/echo?subscription-key={edge.key}")) == "hi"
        assert "serving the saved configuration" in node.output()

        # Meanwhile the key is regenerated; the node learns it when the control plane returns.
        old_key = edge.key
        services.regenerate_subscription_key(subscription=edge.subscription, which="primary")
        edge.subscription.refresh_from_db()
        control = start_control_plane(server_logs, port=port)
        node.wait_for_revision(selectors.catalog_revision(), timeout=20)
        assert run(refused(f"{node.ws_url}/echo?subscription-key={old_key}")).status == 401
        assert run(echo(f"{node.ws_url}/echo?subscription-key={edge.key}")) == "hi"
    finally:
        node.stop()
        control.stop()


def node_command(*args: str, **env: str) -> subprocess.CompletedProcess:
    node = {
        "DATABASE_URL": "",
        "PORTICO_GATEWAY": "edge",
        "PORTICO_CONTROL_URL": "http://127.0.0.1:9",
        "PORTICO_GATEWAY_TOKEN": "pgw_x",
    }
    environment = server_env(**{**node, **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_node_has_no_database_to_use():
    result = node_command("shell", "-c", "from apis.models import Api; Api.objects.count()")
    assert result.returncode != 0
    assert "self-hosted gateway node" in result.stderr and "has no database" in result.stderr


def test_a_node_refuses_to_start_with_database_credentials():
    result = node_command("check", DATABASE_URL="sqlite:///x.sqlite3")
    assert result.returncode != 0
    assert "unset DATABASE_URL" in result.stderr
