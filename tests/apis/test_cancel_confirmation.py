"""Issue 29 item 4: the confirmations of cancel (publisher and developer) and suspend say that
open connections are closed at once with 1008, and how many are open now: counted by the
telemetry app from the gateways' live reports, which the catalog finds through Django's app
registry (it never imports telemetry: tests/apis/test_import_rules.py)."""

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apis import selectors, services
from apis.models import Product
from apis.telemetry import live_services
from apis.telemetry.apps import TelemetryConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription():
    owner = User.objects.create_user("dev", password="x")
    api = services.create_api(display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="e")
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    other = services.create_subscription(display_name="Other", product=product)
    mine = services.create_subscription(display_name="Mine", owner=owner, product=product)
    entries = [
        {
            "id": f"{n:032x}",
            "api_id": api.pk,
            "api_name": api.name,
            "subscription_id": sub.pk,
            "opened_at": timezone.now().isoformat(),
        }
        for n, sub in ((1, mine), (2, mine), (3, other))
    ]
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": "node-a", "worker": "1", "full": True, "opened": entries},
    )
    return mine


def said(html: str) -> str:
    found = re.search(r'<p data-role="connections-closed">(.*?)</p>', html, re.S)
    assert found, html
    return " ".join(re.sub(r"<[^>]+>", "", found[1]).split())


@pytest.mark.parametrize(
    ("action", "reason"),
    [("cancel", "subscription cancelled"), ("suspend", "subscription suspended")],
)
def test_the_publisher_confirmation_says_how_many_are_closed_with_1008(
    publisher, subscription, action, reason
):
    html = publisher.get(f"/publisher/subscriptions/{subscription.pk}/action/?action={action}")
    assert said(html.content.decode()) == (
        f"2 connections are open now and closed at once (clients get close code 1008, “{reason}”)."
    )
    assert "from the next connection on" not in html.content.decode()


def test_the_developer_cancel_confirmation_says_it_too(client, subscription):
    client.force_login(subscription.owner)
    html = client.get(f"/subscriptions/{subscription.pk}/cancel/").content.decode()
    assert said(html) == (
        "2 connections are open now and closed at once (clients get close code 1008, "
        "“subscription cancelled”)."
    )
    assert "from the next connection on" not in html


def test_one_or_none_open_and_actions_that_close_nothing(publisher, subscription):
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": "node-a", "worker": "1", "full": True, "opened": []},
    )
    url = f"/publisher/subscriptions/{subscription.pk}/action/"
    html = publisher.get(url, {"action": "cancel"}).content.decode()
    assert said(html).startswith("No connections are open now; any that open before you confirm")
    html = publisher.get(url, {"action": "reactivate"}).content.decode()
    assert 'data-role="connections-closed"' not in html
    assert selectors.open_connection_counts([subscription.pk]) == {subscription.pk: 0}


def test_without_an_app_that_counts_the_page_still_says_what_happens(
    publisher, subscription, monkeypatch
):
    monkeypatch.delattr(TelemetryConfig, "open_connection_counts")  # telemetry not installed
    assert selectors.open_connection_counts([subscription.pk]) is None
    html = publisher.get(f"/publisher/subscriptions/{subscription.pk}/action/?action=cancel")
    assert said(html.content.decode()) == (
        "Any open connections are closed at once (clients get close code 1008, "
        "“subscription cancelled”)."
    )
