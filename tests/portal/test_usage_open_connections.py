"""Issue 29 item 1: the usage page's "Now:" line and its table of open connections come from
one read of the gateways' live reports, so they agree, also in the ?partial=live answer that
static/js/live-refresh.js fetches. When the connection cap counts more than is listed (a
connection opened a moment ago, or held by a gateway that stopped), the page says so."""

import asyncio
import re
import uuid

import pytest
from django.contrib.auth.models import User

from apis import counters, services
from apis.models import Product
from tests.support.telemetry import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(client):
    owner = User.objects.create_user("owner", password="x")
    api = services.create_api(display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="e")
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    subscription = services.create_subscription(display_name="Mine", owner=owner, product=product)
    client.force_login(owner)
    return subscription


def now_line(html: str) -> str:
    found = re.search(r'data-live-part="now">\s*(Now: [^<]*)', html)
    assert found, html
    return found[1].strip()


def listed(html: str) -> int:
    return html.count("<tr data-connection=")


def test_the_now_line_counts_what_the_table_lists_and_follows_it(client, owned):
    url = f"/usage/{owned.pk}/"
    report(owned, [1])
    html = client.get(url).content.decode()
    assert now_line(html) == "Now: 1 connection open."
    assert listed(html) == 1 and "1 open now, on every gateway" in html

    report(owned, [1, 2, 3])
    part = client.get(url, {"partial": "live"}).content.decode()
    assert now_line(part) == "Now: 3 connections open."
    assert listed(part) == 3 and "3 open now, on every gateway" in part
    assert "<h1>" not in part  # the live parts only, not the page

    report(owned, [])
    part = client.get(url, {"partial": "live"}).content.decode()
    assert now_line(part) == "Now: 0 connections open."
    assert listed(part) == 0 and "No open connections." in part


def test_a_cap_counting_more_than_is_listed_is_said_beside_the_count(client, owned, settings):
    settings.PORTICO_LIMITS_KEY_PREFIX = f"portico-test-{uuid.uuid4().hex}"
    counters.policy_runtime.cache_clear()
    services.update_product(product=owned.product, max_connections_per_subscription=5)
    runtime = counters.policy_runtime()
    key = runtime.subscription_connections_key(owned.pk)

    async def take(count: int):
        return [await runtime.take_counted_slot(key, 5) for _ in range(count)]

    try:
        report(owned, [1])
        asyncio.run(take(1))  # the cap counts the one listed connection
        html = client.get(f"/usage/{owned.pk}/").content.decode()
        assert now_line(html) == "Now: 1 of 5 connections open."
        assert 'data-role="cap-counts"' not in html
        asyncio.run(take(1))  # a second one, not reported yet
        html = client.get(f"/usage/{owned.pk}/", {"partial": "live"}).content.decode()
        assert now_line(html) == "Now: 1 of 5 connections open."
        assert listed(html) == 1
        assert "The connection cap counts 2 of 5 connections open" in html
    finally:
        counters.policy_runtime.cache_clear()
