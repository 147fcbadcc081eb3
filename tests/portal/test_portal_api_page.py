"""An API's page: gateway URLs per scheme, how to pass the key, samples and console keys."""

import html

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from apis import services
from apis.models import Api, Product, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    guests_and_devs = [Group.objects.get_or_create(name=n)[0] for n in ("Guests", "Developers")]
    api = services.create_api(
        display_name="Ticker",
        backend_url="ws://127.0.0.1:9/",
        url_suffix="market/ticker",
        description="Live prices.",
        subscription_key_header="X-Ticker-Key",
        subscription_key_query="ticker-key",
    )
    gold = services.create_product(
        display_name="Gold", state=Product.State.PUBLISHED, apis=[api], groups=guests_and_devs
    )
    other = services.create_product(
        display_name="Other", state=Product.State.PUBLISHED, groups=guests_and_devs
    )
    user = User.objects.create_user("dev", password="pw-long-enough-1")
    user.groups.add(guests_and_devs[1])
    return api, gold, other, user


def page(client, api: Api, **extra) -> str:
    response = client.get(reverse("portal:api", args=[api.name]), **extra)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("scheme", "secure", "expected"),
    [
        ("ws", False, ["ws://testserver/market/ticker"]),
        ("wss", False, ["wss://testserver/market/ticker"]),
        ("both", False, ["ws://testserver/market/ticker", "wss://testserver/market/ticker"]),
        ("both", True, ["wss://testserver/market/ticker", "ws://testserver/market/ticker"]),
    ],
)
def test_gateway_urls_follow_the_api_scheme_and_the_request_host(
    client, setup, scheme, secure, expected
):
    api = services.update_api(api=setup[0], url_scheme=scheme)
    response = client.get(reverse("portal:api", args=[api.name]), secure=secure)
    assert response.context["gateway_urls"] == expected


def test_anonymous_page_explains_key_passing_with_a_placeholder(client, setup):
    api, gold, other, _ = setup
    body = page(client, api)
    assert "Live prices." in body
    assert "X-Ticker-Key: <your-key>" in body and "?ticker-key=<your-key>" in body
    assert "Browsers cannot set headers" in body
    assert "Gold" in body and "Other" not in body
    assert 'new WebSocket("ws://testserver/market/ticker?ticker-key=<your-key>")' in body
    assert '"X-Ticker-Key": "<your-key>"' in body
    assert 'wscat -c "ws://testserver/market/ticker" -H "X-Ticker-Key: <your-key>"' in body
    assert f'data-ticket-url="/apis/{api.name}/ticket/"' in body


def test_signed_in_page_fills_in_the_key_masked_and_offers_only_granting_keys(client, setup):
    api, gold, other, user = setup
    granting = services.create_subscription(display_name="Prod", owner=user, product=gold)
    services.create_subscription(display_name="Unrelated", owner=user, product=other)
    cancelled = services.create_subscription(display_name="Old", owner=user, product=gold)
    services.cancel_subscription(subscription=cancelled)
    client.force_login(user)
    body = page(client, api)
    key = granting.primary_key
    assert '?ticker-key=<span class="secret">••••••••••••</span>' in body
    assert key not in body and granting.secondary_key not in body and "data-secret" not in body
    keys_url = reverse("portal:subscription_keys", args=[granting.pk])
    assert f'data-keys-url="{keys_url}"' in body
    assert "<your-key>" not in body.split("Code samples")[1].split("Try it")[0]
    console = body.split("data-ws-console")[1]
    assert f'<option value="{granting.pk}">Prod (Gold)</option>' in console
    assert key not in console and granting.secondary_key not in console  # tickets, not keys
    assert '<option value="@paste">Paste a key…</option>' in console
    assert "Unrelated" not in console and cancelled.primary_key not in body


def test_all_apis_and_api_scoped_subscriptions_also_grant_the_api(client, setup):
    api, _gold, _other, user = setup
    services.create_subscription(display_name="Everything", owner=user, scope="all_apis")
    services.create_subscription(display_name="Just this", owner=user, scope="api", api=api)
    services.create_subscription(
        display_name="Pending", owner=user, scope="api", api=api, state=Subscription.State.SUBMITTED
    )
    client.force_login(user)
    labels = [
        k["label"]
        for k in client.get(reverse("portal:api", args=[api.name])).context["console_subscriptions"]
    ]
    assert labels == ["Everything (All APIs)", "Just this (Ticker)"]


def test_open_api_samples_have_no_key(client, setup):
    api = services.update_api(api=setup[0], subscription_required=False)
    body = page(client, api)
    assert "This API needs no subscription key." in body
    assert 'new WebSocket("ws://testserver/market/ticker")' in body
    assert "<your-key>" not in body
