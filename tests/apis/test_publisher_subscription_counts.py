"""The publisher's subscription lists count open connections as the gateways report them, so an
uncapped subscription with open connections no longer reads "0 connections open" (the counter
store only holds slots for capped subscriptions); and the regenerate confirmations say the old
key's connections close at once, as gateway/node/revocation.py does ("key regenerated")."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from apis import services
from apis.models import Product
from tests.support.telemetry import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def uncapped():
    owner = User.objects.create_user("owner", password="x")
    api = services.create_api(display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="e")
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    return services.create_subscription(display_name="Mine", owner=owner, product=product)


def test_an_uncapped_subscription_shows_the_connections_the_gateways_report(publisher, uncapped):
    report(uncapped, [1, 2, 3])
    for url in (
        reverse("publisher:subscription-list"),
        reverse("publisher:product-subscriptions", args=[uncapped.product.name]),
    ):
        html = publisher.get(url).content.decode()
        assert "3 connections open" in html
        assert "0 connections open" not in html


def test_regenerate_confirmations_say_the_old_keys_connections_close_now(publisher, uncapped):
    page = publisher.get(
        reverse("publisher:subscription-regenerate", args=[uncapped.pk, "primary"])
    ).content.decode()
    assert "closed now" in page and "key regenerated" in page
    assert "next connection on" not in page
    owner = User.objects.get(username="owner")
    publisher.force_login(owner)
    page = publisher.get(
        reverse("portal:subscription_regenerate", args=[uncapped.pk, "primary"])
    ).content.decode()
    assert "closed now" in page and "key regenerated" in page
