"""A developer's own subscriptions: masked keys, regenerate, rename, cancel, and isolation."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from apis import services
from apis.models import Product, Subscription

pytestmark = pytest.mark.django_db


def developer(username: str) -> User:
    user = User.objects.create_user(username, password="pw-long-enough-1")
    user.groups.add(Group.objects.get_or_create(name="Developers")[0])
    return user


@pytest.fixture
def product() -> Product:
    api = services.create_api(
        display_name="Ticker", backend_url="ws://127.0.0.1:9/", url_suffix="ticker"
    )
    return services.create_product(
        display_name="Gold",
        state=Product.State.PUBLISHED,
        apis=[api],
        groups=[Group.objects.get_or_create(name="Developers")[0]],
    )


@pytest.fixture
def alice(client, product):
    user = developer("alice")
    client.force_login(user)
    return user


@pytest.fixture
def bobs_subscription(product) -> Subscription:
    return services.create_subscription(
        display_name="Bobs app", owner=developer("bob"), product=product
    )


def keys(subscription: Subscription) -> tuple[str, str, str, str]:
    subscription.refresh_from_db()
    return (
        subscription.primary_key,
        subscription.secondary_key,
        subscription.state,
        subscription.display_name,
    )


def test_another_users_subscription_answers_404_for_every_view_and_action(
    client, alice, bobs_subscription
):
    before = keys(bobs_subscription)
    pk = bobs_subscription.pk
    requests = [
        ("get", reverse("portal:subscription_rename", args=[pk]), {}),
        ("post", reverse("portal:subscription_rename", args=[pk]), {"display_name": "Mine"}),
        ("get", reverse("portal:subscription_cancel", args=[pk]), {}),
        ("post", reverse("portal:subscription_cancel", args=[pk]), {}),
    ]
    for which in ("primary", "secondary", "nonsense"):
        url = reverse("portal:subscription_regenerate", args=[pk, which])
        requests += [("get", url, {}), ("post", url, {})]
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert keys(bobs_subscription) == before
    for url in (reverse("portal:subscriptions"), reverse("portal:profile")):
        page = client.get(url).content.decode()
        assert before[0] not in page and before[1] not in page and "Bobs app" not in page


def test_another_users_key_never_reaches_the_api_page(client, alice, bobs_subscription, product):
    page = client.get(reverse("portal:api", args=["ticker"])).content.decode()
    assert bobs_subscription.primary_key not in page
    assert bobs_subscription.secondary_key not in page


def test_list_shows_own_subscriptions_with_keys_masked(client, alice, product):
    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    page = client.get(reverse("portal:subscriptions")).content.decode()
    assert "Alices app" in page and "Active" in page and "Gold" in page
    # No key in the page: Show/Copy fetch them from the keys URL (POST, session and CSRF).
    assert mine.primary_key not in page and mine.secondary_key not in page
    keys_url = reverse("portal:subscription_keys", args=[mine.pk])
    assert f'data-keys-url="{keys_url}"' in page and "data-secret" not in page


def test_keys_are_fetched_by_their_owner_only_with_a_post_and_csrf(alice, product):
    from django.test import Client

    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    url = reverse("portal:subscription_keys", args=[mine.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(url).status_code == 403  # no CSRF token
    strict.get(reverse("portal:subscriptions"))
    token = strict.cookies["csrftoken"].value
    assert strict.get(url).status_code == 405
    response = strict.post(url, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    assert response.json() == {"primary": mine.primary_key, "secondary": mine.secondary_key}
    bob = User.objects.create_user("bob-keys", password="pw")
    other = Client()
    other.force_login(bob)
    assert other.post(url).status_code == 404
    services.cancel_subscription(subscription=mine)
    assert strict.post(url, HTTP_X_CSRFTOKEN=token).status_code == 404
    anonymous = Client().post(url)
    assert anonymous.status_code == 302


def test_regenerate_confirms_first_then_changes_exactly_one_key(client, alice, product):
    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    primary, secondary, *_ = keys(mine)
    url = reverse("portal:subscription_regenerate", args=[mine.pk, "primary"])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Regenerate the primary key" in confirm.content.decode()
    assert keys(mine)[:2] == (primary, secondary)  # a GET changes nothing
    assert client.post(url).status_code == 302
    new_primary, new_secondary, *_ = keys(mine)
    assert new_primary != primary and new_secondary == secondary
    client.post(reverse("portal:subscription_regenerate", args=[mine.pk, "secondary"]))
    assert keys(mine)[:2][0] == new_primary and keys(mine)[1] != secondary


def test_rename_keeps_the_input_and_reports_a_field_error(client, alice, product):
    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    url = reverse("portal:subscription_rename", args=[mine.pk])
    refused = client.post(url, {"display_name": "x" * 101})
    assert refused.status_code == 400
    assert "at most 100 characters" in refused.content.decode()
    assert keys(mine)[3] == "Alices app"
    assert client.post(url, {"display_name": "Production"}).status_code == 302
    assert keys(mine)[3] == "Production"


def test_cancel_asks_first_then_cancels_and_hides_keys(client, alice, product):
    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    url = reverse("portal:subscription_cancel", args=[mine.pk])
    assert "Cancel the subscription" in client.get(url).content.decode()
    assert keys(mine)[2] == Subscription.State.ACTIVE
    client.post(url)
    assert keys(mine)[2] == Subscription.State.CANCELLED
    page = client.get(reverse("portal:subscriptions")).content.decode()
    assert mine.primary_key not in page and "Cancelled" in page
    regenerate = reverse("portal:subscription_regenerate", args=[mine.pk, "primary"])
    before = keys(mine)
    client.post(regenerate)
    assert keys(mine) == before  # a cancelled subscription's keys are not regenerated


def test_anonymous_visitor_is_sent_to_sign_in(client, bobs_subscription):
    for url in (
        reverse("portal:subscriptions"),
        reverse("portal:profile"),
        reverse("portal:subscription_cancel", args=[bobs_subscription.pk]),
    ):
        response = client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert keys(bobs_subscription)[2] == Subscription.State.ACTIVE


def test_pending_shows_no_keys_cancelled_sorts_last_and_usage_is_linked(client, alice, product):
    gone = services.create_subscription(display_name="Gone", owner=alice, product=product)
    services.cancel_subscription(subscription=gone)
    pending = services.create_subscription(
        display_name="Pending", owner=alice, product=product, state=Subscription.State.SUBMITTED
    )
    live = services.create_subscription(display_name="Live", owner=alice, product=product)
    page = client.get(reverse("portal:subscriptions"))
    assert [s.display_name for s in page.context["subscriptions"]] == ["Live", "Pending", "Gone"]
    html = page.content.decode()
    card = html.split(f'id="subscription-{pending.pk}"')[1].split("</section>")[0]
    assert pending.primary_key not in html and "data-key-row" not in card
    assert "Pending approval" in card
    assert reverse("portal:subscription_regenerate", args=[pending.pk, "primary"]) not in html
    for sub in (live, pending, gone):
        assert reverse("portal:subscription-usage", args=[sub.pk]) in html
    assert f'href="{reverse("portal:usage")}"' in html  # the menu
    index = client.get(reverse("portal:usage")).content.decode()
    assert reverse("portal:subscription-usage", args=[live.pk]) in index
    api_page = client.get(reverse("portal:api", args=["ticker"])).content.decode()
    assert reverse("portal:subscription-usage", args=[live.pk]) in api_page


def test_pending_keys_cannot_be_regenerated_nor_built_in_subscriptions_cancelled(
    client, alice, product
):
    pending = services.create_subscription(
        display_name="Pending", owner=alice, product=product, state=Subscription.State.SUBMITTED
    )
    old = pending.primary_key
    client.post(reverse("portal:subscription_regenerate", args=[pending.pk, "primary"]))
    pending.refresh_from_db()
    assert pending.primary_key == old
    builtin = services.ensure_publisher_console_subscription(user=alice)
    html = client.get(reverse("portal:subscriptions")).content.decode()
    assert reverse("portal:subscription_cancel", args=[builtin.pk]) not in html
    client.post(reverse("portal:subscription_cancel", args=[builtin.pk]))
    builtin.refresh_from_db()
    assert builtin.state == Subscription.State.ACTIVE


def test_no_developer_page_carries_a_key_in_its_html(client, alice, product):
    """Pages whose purpose is the keys fetch them on Show/Copy; no page sends one."""
    mine = services.create_subscription(display_name="Alices app", owner=alice, product=product)
    pages = [
        reverse("portal:home"),
        reverse("portal:apis"),
        reverse("portal:api", args=["ticker"]),
        reverse("portal:products"),
        reverse("portal:product", args=[product.name]),
        reverse("portal:subscriptions"),
        reverse("portal:profile"),
        reverse("portal:usage"),
        reverse("portal:subscription-usage", args=[mine.pk]),
        reverse("portal:subscription_rename", args=[mine.pk]),
        reverse("portal:subscription_regenerate", args=[mine.pk, "primary"]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert mine.primary_key not in html and mine.secondary_key not in html, url
        assert "data-secret" not in html, url
