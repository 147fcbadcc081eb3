"""A developer sees their own subscription's usage and quota; nobody else's."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from apis import services
from apis.models import Product
from apis.telemetry import services as telemetry_services

pytestmark = pytest.mark.django_db

QUOTA = (
    '<policies><inbound><base /><quota calls="100" renewal-period="3600" /></inbound></policies>'
)


@pytest.fixture
def owned():
    owner = User.objects.create_user("owner", password="x")
    api = services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="echo", policy_xml=QUOTA
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    subscription = services.create_subscription(display_name="Mine", owner=owner, product=product)
    now = timezone.now()
    records = [
        {
            "correlation_id": f"{i:032x}",
            "gateway": "managed",
            "api_id": api.id,
            "subscription_id": subscription.id,
            "started_at": now,
            "state": "accepted",
            "status": 101,
        }
        for i in range(3)
    ]
    minute = {"minute": now.replace(second=0, microsecond=0), "gateway": "managed"}
    usage = [
        {
            **minute,
            "api_id": api.id,
            "subscription_id": subscription.id,
            "accepted": 3,
            "messages_up": 11,
            "messages_down": 12,
            "bytes_up": 2048,
            "bytes_down": 4096,
        }
    ]
    telemetry_services.write_batch(records=records, usage=usage, refusals=[])
    return owner, subscription


def test_the_owner_sees_usage_against_the_quota(client, owned):
    owner, subscription = owned
    client.force_login(owner)
    response = client.get(reverse("portal:subscription-usage", args=[subscription.id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="accepted"><span>Connections</span><strong>3</strong>' in html
    assert "11 / 12" in html and "2.0\xa0KB / 4.0\xa0KB" in html
    assert '<tr data-api="Echo"><td>Echo</td><td>3</td><td>100 connections</td>' in html
    assert html.count("<svg") == 4


def test_others_get_404_and_anonymous_users_log_in(client, owned):
    _owner, subscription = owned
    url = reverse("portal:subscription-usage", args=[subscription.id])
    assert client.get(url).status_code == 302
    client.force_login(User.objects.create_user("someone", password="x"))
    assert client.get(url).status_code == 404
