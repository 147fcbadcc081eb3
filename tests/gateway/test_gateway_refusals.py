"""Refused handshakes answer real HTTP statuses with JSON bodies; the backend is never contacted."""

import pytest

from apis import services
from apis.models import Subscription
from tests.support.backend import HangingServer, free_port
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def assert_refused(result, status: int, words: str) -> None:
    assert result.status == status
    assert result.body["statusCode"] == status
    assert words in result.body["message"]
    assert len(result.body["correlationId"]) == 32
    assert result.headers["content-type"] == "application/json"


def test_missing_key_is_401(gateway, catalog, backend):
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo"))
    assert_refused(result, 401, "missing subscription key")
    assert backend.requests == []


def test_wrong_key_is_401(gateway, catalog, backend):
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key=not-a-key"))
    assert_refused(result, 401, "invalid subscription key")
    assert backend.requests == []


def test_secondary_key_works_too(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(
            f"{gateway.ws_url}/echo?subscription-key={catalog.subscription.secondary_key}"
        ) as ws:
            await ws.send("hi")
            return await ws.recv()

    assert run(scenario()) == "hi"


@pytest.mark.parametrize("action", ["suspend", "submitted"])
def test_suspended_or_not_yet_active_subscription_is_403(gateway, catalog, backend, action):
    if action == "suspend":
        services.suspend_subscription(subscription=catalog.subscription)
        expected = "suspended"
    else:
        Subscription.objects.filter(pk=catalog.subscription.pk).update(state="submitted")
        services.rename_subscription(subscription=catalog.subscription, display_name="renamed")
        expected = "not active"
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    assert_refused(result, 403, expected)
    assert backend.requests == []


def test_key_of_a_product_without_the_api_is_401(gateway, catalog, backend):
    other = services.create_product(display_name="Other")
    subscription = services.create_subscription(display_name="other", product=other)
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={subscription.primary_key}"))
    assert_refused(result, 401, "invalid subscription key")


def test_all_apis_and_api_scoped_subscriptions_cover_the_api(gateway, catalog, backend):
    everything = services.create_subscription(display_name="all", scope="all_apis")
    one_api = services.create_subscription(display_name="one", scope="api", api=catalog.api)
    serve_current_catalog(gateway)

    async def scenario(key):
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={key}") as ws:
            await ws.send("hi")
            return await ws.recv()

    assert run(scenario(everything.primary_key)) == "hi"
    assert run(scenario(one_api.secondary_key)) == "hi"


def test_unknown_suffix_is_404(gateway, catalog, backend):
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/nothing-here?subscription-key={catalog.key}"))
    assert_refused(result, 404, "not found")
    assert backend.requests == []


def test_api_not_assigned_to_this_gateway_is_404(gateway, catalog, backend):
    elsewhere = services.create_gateway(name="edge-eu", location_name="Amsterdam")
    services.update_api(api=catalog.api, gateways=[elsewhere])
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    assert_refused(result, 404, "not found")
    assert backend.requests == []


def test_api_accepting_only_wss_refuses_ws(gateway, catalog, backend):
    services.update_api(api=catalog.api, url_scheme="wss")
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    assert_refused(result, 403, "does not accept ws://")
    assert backend.requests == []


def test_regenerated_key_is_refused_on_the_next_handshake(gateway, catalog, backend):
    old_key = catalog.key
    services.regenerate_subscription_key(subscription=catalog.subscription, which="primary")
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={old_key}"))
    assert_refused(result, 401, "invalid subscription key")

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            await ws.send("new key")
            return await ws.recv()

    assert run(scenario()) == "new key"


def test_backend_down_is_502(gateway, catalog, backend):
    services.update_api(api=catalog.api, backend_url=f"ws://127.0.0.1:{free_port()}/")
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    assert_refused(result, 502, "unreachable")


def test_backend_refusing_the_upgrade_is_502(gateway, catalog, backend):
    services.update_api(api=catalog.api, backend_url=f"{backend.url}/reject")
    serve_current_catalog(gateway)
    result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    assert_refused(result, 502, "refused the WebSocket handshake")


def test_backend_hanging_is_504(gateway, catalog, backend):
    hanging = HangingServer()
    try:
        services.update_api(api=catalog.api, backend_url=f"ws://127.0.0.1:{hanging.port}/")
        serve_current_catalog(gateway)
        result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    finally:
        hanging.close()
    assert_refused(result, 504, "did not answer in time")


def test_keys_never_reach_the_gateway_log(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            await ws.send("hi")
            await ws.recv()

    run(scenario())
    run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}x"))
    output = gateway.output()
    assert "handshake refused status=401" in output  # the log is being written...
    assert catalog.key not in output  # ...and never carries a key
    assert catalog.subscription.secondary_key not in output


def test_probe_explains_a_refusal_the_browser_cannot_see(gateway, catalog, backend):
    import json
    import urllib.request

    serve_current_catalog(gateway)

    def probe(query: str) -> dict:
        with urllib.request.urlopen(f"{gateway.http_url}/_portico/probe/echo?{query}") as r:
            return json.load(r)

    assert probe("")["statusCode"] == 401
    assert probe("subscription-key=wrong")["statusCode"] == 401
    accepted = probe(f"subscription-key={catalog.key}")
    assert accepted["statusCode"] == 101
    assert len(backend.requests) == 1  # the probe really opened (and closed) the backend leg
    assert catalog.key not in gateway.output()
