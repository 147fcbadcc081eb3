"""Gateway pages: heartbeat status, add, edit, assign APIs; the console's built-in subscription."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apis import services
from apis.models import Gateway, Subscription

pytestmark = pytest.mark.django_db


def gateway_data(**overrides) -> dict:
    data = {"name": "edge-eu", "description": "Edge", "location_name": "Paris DC"}
    data["location_city"], data["location_country"] = "Paris", "France"
    data.update(overrides)
    return data


def test_list_shows_kind_location_apis_and_heartbeat(publisher):
    services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    edge = services.create_gateway(name="edge", location_name="Lyon")
    services.record_gateway_heartbeat(name="edge", node_count=2, version="1.0")
    stale = services.create_gateway(name="stale")
    Gateway.objects.filter(pk=stale.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    response = publisher.get("/publisher/gateways/")
    statuses = {r["gateway"].name: r["status"][0] for r in response.context["rows"]}
    assert statuses == {"edge": "Online", "managed": "Never seen", "stale": "Offline"}
    html = response.content.decode()
    assert "Last seen: never" in html and "Lyon" in html and "Managed" in html
    assert "2 nodes" in html and ">Echo</a>" in html
    assert edge.apis.count() == 0


def test_add_gateway_and_assign_apis(publisher):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    response = publisher.post("/publisher/gateways/add/", gateway_data(apis=[api.pk]))
    assert response.status_code == 302
    gateway = Gateway.objects.get(name="edge-eu")
    assert gateway.kind == "self_hosted" and gateway.location_city == "Paris"
    assert list(gateway.apis.all()) == [api]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("managed", "A gateway named 'managed' already exists; choose another name."),
        ("Not a slug", "Enter a valid “slug”"),
        ("", "This field is required."),
    ],
)
def test_bad_gateway_names_are_refused(publisher, name, message):
    response = publisher.post("/publisher/gateways/add/", gateway_data(name=name))
    assert response.context["form"].errors["name"][0].startswith(message)
    assert Gateway.objects.count() == 1


def test_edit_gateway_reassigns_apis_and_keeps_the_builtin_name(publisher):
    a = services.create_api(display_name="A", backend_url="ws://a.example/", url_suffix="a")
    b = services.create_api(display_name="B", backend_url="ws://b.example/", url_suffix="b")
    url = reverse("publisher:gateway-edit", args=["managed"])
    response = publisher.post(url, gateway_data(name="renamed", apis=[b.pk]))
    assert response.status_code == 302
    managed = Gateway.objects.get(name="managed")  # the built-in name is not editable
    assert list(managed.apis.all()) == [b] and managed.location_city == "Paris"
    assert a.gateways.count() == 0


def test_console_subscription_is_made_once_and_offered_on_the_test_tab(publisher, publisher_user):
    api = services.create_api(
        display_name="Echo", backend_url="ws://a.example/", url_suffix="e", url_scheme="ws"
    )
    services.update_api(api=api, subscription_key_query="key")
    url = reverse("publisher:api-test", args=["echo"])
    first = publisher.get(url)
    second = publisher.get(url)
    builtin = Subscription.objects.get(owner=publisher_user, is_builtin_all_access=True)
    assert (builtin.scope, builtin.state) == ("all_apis", "active")
    assert first.context["console_urls"] == ["ws://testserver/e"]
    # The console offers the subscription itself and connects with tickets: no key in the page.
    assert second.context["console_subscriptions"][0] == {
        "label": "Built-in all-access",
        "id": builtin.pk,
    }
    page = second.content.decode()
    assert builtin.primary_key not in page and builtin.secondary_key not in page
    assert services.ensure_publisher_console_subscription(user=publisher_user) == builtin
