"""Connection caps are set in the publisher pages, admin, REST API and catalog documents, reach
the gateway's snapshot (and a self-hosted node's config), and pages show the open count."""

import asyncio
import uuid

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from apis import counters, selectors, services
from apis.models import Api, Product
from apis.wire import catalog_from_json, catalog_to_json
from gateway.catalog.snapshot import build_snapshot
from tests.api.conftest import make_users

pytestmark = pytest.mark.django_db
SMALLER_WINS = "the smaller one wins"


@pytest.fixture
def api():
    return services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")


def test_product_form_sets_the_cap_and_refuses_zero(publisher, api):
    data = {"display_name": "Gold", "state": "published", "max_connections_per_subscription": "3"}
    assert publisher.post("/publisher/products/add/", data).status_code == 302
    product = Product.objects.get()
    assert product.max_connections_per_subscription == 3
    page = publisher.get(reverse("publisher:product-edit", args=["gold"])).content.decode()
    assert SMALLER_WINS in page
    refused = publisher.post(
        reverse("publisher:product-edit", args=["gold"]),
        {**data, "max_connections_per_subscription": "0"},
    )
    assert refused.context["form"].errors["max_connections_per_subscription"] == [
        "Ensure this value is greater than or equal to 1."
    ]


def test_api_settings_set_and_clear_the_cap(publisher, api):
    url = reverse("publisher:api-settings", args=["echo"])
    page = publisher.get(url)
    assert SMALLER_WINS in page.content.decode()
    data = {
        "display_name": "Echo",
        "name": "echo",
        "backend_url": "ws://a.example/",
        "url_scheme": "both",
        "url_suffix": "e",
        "subscription_required": "on",
        "subscription_key_header": "X-Key",
        "subscription_key_query": "subscription-key",
        "max_message_bytes": 100,
        "idle_timeout_seconds": 10,
        "max_duration_seconds": 10,
        "max_connections_per_subscription": 4,
    }
    response = publisher.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    api.refresh_from_db()
    assert api.max_connections_per_subscription == 4
    publisher.post(url, {**data, "max_connections_per_subscription": ""})
    api.refresh_from_db()
    assert api.max_connections_per_subscription is None


def test_admin_change_pages_offer_the_cap(admin_client, api):
    product = services.create_product(display_name="Gold")
    for url in (
        reverse("admin:apis_api_change", args=[api.pk]),
        reverse("admin:apis_product_change", args=[product.pk]),
    ):
        html = admin_client.get(url).content.decode()
        assert 'name="max_connections_per_subscription"' in html and SMALLER_WINS in html


@pytest.mark.parametrize("value", [0, -2, "many"])
def test_rest_api_refuses_a_bad_cap_naming_the_field(value):
    from rest_framework.test import APIClient

    users = make_users()
    client = APIClient()
    client.force_authenticate(users["admin"])
    services.create_product(display_name="Gold")
    for url in ("/api/v1/products/gold/", "/api/v1/apis/"):
        if url.startswith("/api/v1/apis"):
            body = {"display_name": "Chat", "backend_url": "wss://c.example/", "url_suffix": "c"}
            response = client.post(url, {**body, "max_connections_per_subscription": value})
        else:
            response = client.patch(url, {"max_connections_per_subscription": value})
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == ["max_connections_per_subscription"], errors
        assert errors[0]["message"]


def test_rest_api_sets_the_cap():
    from rest_framework.test import APIClient

    users = make_users()
    client = APIClient()
    client.force_authenticate(users["admin"])
    services.create_product(display_name="Gold")
    response = client.patch(
        "/api/v1/products/gold/", {"max_connections_per_subscription": 7}, format="json"
    )
    assert response.status_code == 200 and response.json()["max_connections_per_subscription"] == 7
    assert Product.objects.get().max_connections_per_subscription == 7


def test_export_and_apply_carry_the_cap(admin_client, api):
    from rest_framework.test import APIClient

    services.update_api(api=api, max_connections_per_subscription=2)
    services.create_product(display_name="Gold", apis=[api], max_connections_per_subscription=9)
    client = APIClient()
    client.force_authenticate(User.objects.get(username="admin"))
    document = client.get("/api/v1/catalog/").json()
    assert document["apis"][0]["max_connections_per_subscription"] == 2
    assert document["products"][0]["max_connections_per_subscription"] == 9
    document["products"][0]["max_connections_per_subscription"] = 5
    document["apis"][0]["max_connections_per_subscription"] = None
    assert client.post("/api/v1/catalog/apply/", document, format="json").status_code == 200
    assert Product.objects.get().max_connections_per_subscription == 5
    assert Api.objects.get().max_connections_per_subscription is None
    document["products"][0]["max_connections_per_subscription"] = 0
    refused = client.post("/api/v1/catalog/apply/", document, format="json")
    assert refused.status_code == 400
    fields = [e["field"] for e in refused.json()["errors"]]
    assert fields == ["products[0].max_connections_per_subscription"]


def test_the_snapshot_and_a_nodes_config_carry_the_smaller_cap(api):
    gateway = services.ensure_builtin_gateway()
    services.update_api(api=api, max_connections_per_subscription=4, gateways=[gateway])
    small = services.create_product(
        display_name="Small", apis=[api], max_connections_per_subscription=2
    )
    large = services.create_product(
        display_name="Large", apis=[api], max_connections_per_subscription=10
    )
    catalog = selectors.gateway_catalog(gateway.name)
    for served in (catalog, catalog_from_json(catalog_to_json(catalog))):
        route = build_snapshot(served).routes["e"]
        assert route.connection_caps == {None: 4, small.id: 2, large.id: 4}
    services.update_api(api=api, max_connections_per_subscription=None)
    uncapped = selectors.gateway_catalog(gateway.name)
    assert "max_connections" not in catalog_to_json(uncapped)["apis"][0]  # old nodes read it
    assert build_snapshot(uncapped).routes["e"].connection_caps == {small.id: 2, large.id: 10}


def test_pages_show_open_connections_from_the_counter_store(publisher, api, settings):
    settings.PORTICO_LIMITS_KEY_PREFIX = f"portico-test-{uuid.uuid4().hex}"
    counters.policy_runtime.cache_clear()
    owner = User.objects.create_user("dev", password="pw")
    product = services.create_product(
        display_name="Gold", state="published", apis=[api], max_connections_per_subscription=5
    )
    sub = services.create_subscription(display_name="Mine", owner=owner, product=product)
    runtime = counters.policy_runtime()
    key = runtime.subscription_connections_key(sub.id)

    async def take_two():  # as the gateway takes them in this process (or in Redis)
        return [await runtime.take_counted_slot(key, 5) for _ in range(2)]

    try:
        taken = asyncio.run(take_two())
        assert [held for _release, held in taken] == [1, 2]
        for url in (
            reverse("publisher:subscription-list"),
            reverse("publisher:product-subscriptions", args=[product.name]),
        ):
            assert "2 of 5 connections open" in publisher.get(url).content.decode()
        publisher.force_login(owner)
        usage = publisher.get(reverse("portal:subscription-usage", args=[sub.id]))
        assert "2 of 5 connections open" in usage.content.decode()
    finally:
        counters.policy_runtime.cache_clear()
