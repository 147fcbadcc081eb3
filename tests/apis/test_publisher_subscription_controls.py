"""Publisher subscription controls: ask-first state changes with a reason, audited key reads,
key regeneration, adding a subscription, and built-in subscriptions left alone."""

import logging

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from apis import services
from apis.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(publisher, publisher_user):
    return publisher_user  # signed in on `client`


@pytest.fixture
def product():
    return services.create_product(display_name="Gold")


def test_a_state_change_asks_first_and_its_reason_becomes_the_developers_note(
    client, boss, product
):
    dev = User.objects.create_user("dev", password="x")
    sub = services.create_subscription(display_name="Team", owner=dev, product=product)
    url = reverse("publisher:subscription-action", args=[sub.pk])
    page = client.get(url, {"action": "cancel", "next": "/publisher/subscriptions/"})
    html = page.content.decode()
    assert page.status_code == 200 and "Cancel Team?" in html
    assert 'name="comment"' in html and "Shown to the developer as the note" in html
    sub.refresh_from_db()
    assert sub.state == "active"  # asking changed nothing
    client.post(url, {"action": "cancel", "comment": "Moved to the Platinum plan"})
    sub.refresh_from_db()
    assert sub.state == "cancelled" and sub.state_comment == "Moved to the Platinum plan"
    client.force_login(dev)
    assert "Moved to the Platinum plan" in client.get("/subscriptions/").content.decode()


def test_built_in_subscriptions_offer_no_state_actions_and_refuse_them(client, boss):
    builtin = services.ensure_publisher_console_subscription(user=boss)
    rows = client.get("/publisher/subscriptions/").context["rows"]
    assert [r["actions"] for r in rows if r["subscription"] == builtin] == [[]]
    url = reverse("publisher:subscription-action", args=[builtin.pk])
    client.post(url, {"action": "cancel"})
    builtin.refresh_from_db()
    assert builtin.state == "active"


def test_keys_are_read_by_post_only_and_every_read_is_audited(client, boss, product, caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    sub = services.create_subscription(display_name="Team", product=product)
    url = reverse("publisher:subscription-keys", args=[sub.pk])
    assert client.get(url).status_code == 405
    for _ in range(2):
        body = client.post(url).json()
        assert body == {"primary": sub.primary_key, "secondary": sub.secondary_key}
    lines = [r.getMessage() for r in caplog.records if r.name == "portico.audit"]
    assert len(lines) == 2 and all(f"subscription={sub.pk}" in line for line in lines)
    assert "user=pub" in lines[0]
    assert sub.primary_key not in caplog.text and sub.secondary_key not in caplog.text


def test_keys_are_for_publishers_only(client, product):
    sub = services.create_subscription(display_name="Team", product=product)
    client.force_login(User.objects.create_user("dev", password="x"))
    assert client.post(reverse("publisher:subscription-keys", args=[sub.pk])).status_code == 403


def test_regenerating_a_key_asks_first_and_is_audited(client, boss, product, caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    sub = services.create_subscription(display_name="Team", product=product)
    old_primary, old_secondary = sub.primary_key, sub.secondary_key
    url = reverse("publisher:subscription-regenerate", args=[sub.pk, "secondary"])
    assert "Regenerate the secondary key of Team?" in client.get(url).content.decode()
    sub.refresh_from_db()
    assert sub.secondary_key == old_secondary
    client.post(url)
    sub.refresh_from_db()
    assert sub.secondary_key != old_secondary and sub.primary_key == old_primary
    assert "subscription key regenerated" in caplog.text and "which=secondary" in caplog.text
    bad = reverse("publisher:subscription-regenerate", args=[sub.pk, "tertiary"])
    assert client.get(bad).status_code == 404


def test_add_subscription_with_owner_scope_and_state(client, boss, product):
    dev = User.objects.create_user("dev", password="x")
    api = services.create_api(display_name="Echo", backend_url="ws://b/", url_suffix="echo")
    url = reverse("publisher:subscription-create")
    assert client.get(url).status_code == 200
    missing = client.post(url, {"display_name": "X", "scope": "api", "state": "active"})
    assert missing.context["form"].errors == {"api": ["Choose the API this subscription opens."]}
    client.post(
        url,
        {"display_name": "For dev", "owner": dev.pk, "scope": "product", "product": product.pk,
         "api": api.pk, "state": "submitted"},
    )  # fmt: skip
    sub = Subscription.objects.get(display_name="For dev")
    assert (sub.owner, sub.scope, sub.product, sub.api, sub.state) == (
        dev, "product", product, None, "submitted"
    )  # fmt: skip
    client.post(url, {"display_name": "Everything", "scope": "all_apis", "state": "active"})
    everything = Subscription.objects.get(display_name="Everything")
    assert everything.owner is None and everything.scope == "all_apis"
