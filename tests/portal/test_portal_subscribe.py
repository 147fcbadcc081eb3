"""Subscribing to a product from its page: terms, approval, the per-user limit, visibility."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from apis import services
from apis.models import Product, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(client):
    user = User.objects.create_user("dev", password="pw-long-enough-1")
    user.groups.add(Group.objects.get_or_create(name="Developers")[0])
    client.force_login(user)
    return user


def make_product(**fields) -> Product:
    api = services.create_api(
        display_name="Ticker", backend_url="ws://127.0.0.1:9/", url_suffix="ticker"
    )
    developers = Group.objects.get_or_create(name="Developers")[0]
    fields.setdefault("state", Product.State.PUBLISHED)
    return services.create_product(display_name="Gold", apis=[api], groups=[developers], **fields)


def subscribe(client, product: Product, **data):
    return client.post(reverse("portal:subscribe", args=[product.name]), data)


def test_subscribe_without_approval_is_active_at_once(client, developer):
    product = make_product()
    response = subscribe(client, product, display_name="My app")
    assert response.status_code == 302
    subscription = Subscription.objects.get(owner=developer)
    assert (subscription.state, subscription.product, subscription.display_name) == (
        Subscription.State.ACTIVE,
        product,
        "My app",
    )
    assert subscription.start_date is not None
    page = client.get(response.url).content.decode()
    assert "your keys work now" in page


def test_subscribe_with_approval_is_submitted_then_publisher_approves(client, developer):
    product = make_product(approval_required=True)
    subscribe(client, product)
    subscription = Subscription.objects.get(owner=developer)
    assert subscription.state == Subscription.State.SUBMITTED
    assert "Gold (dev)" == subscription.display_name
    services.approve_subscription(subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE


def test_legal_terms_must_be_accepted(client, developer):
    product = make_product(legal_terms="Be nice to the backend.")
    page = client.get(reverse("portal:product", args=[product.name])).content.decode()
    assert "Be nice to the backend." in page and "I accept the legal terms" in page
    refused = subscribe(client, product, display_name="Keep this name")
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Accept the legal terms" in body
    assert 'value="Keep this name"' in body  # nothing the user typed is lost
    assert not Subscription.objects.exists()
    assert subscribe(client, product, accept_terms="on").status_code == 302
    assert Subscription.objects.filter(owner=developer).count() == 1


def test_subscriptions_limit_refuses_with_a_clear_message(client, developer):
    product = make_product(subscriptions_limit=2)
    assert subscribe(client, product).status_code == 302
    assert subscribe(client, product).status_code == 302
    refused = subscribe(client, product)
    assert refused.status_code == 400
    assert "You already hold 2 subscription(s) to Gold, its limit per user." in (
        refused.content.decode()
    )
    assert Subscription.objects.filter(owner=developer).count() == 2
    services.cancel_subscription(subscription=Subscription.objects.filter(owner=developer)[0])
    assert subscribe(client, product).status_code == 302  # a cancelled one frees a place


def test_anonymous_visitor_is_sent_to_sign_in_and_nothing_is_created(client):
    product = make_product()
    product.groups.add(Group.objects.get_or_create(name="Guests")[0])
    response = subscribe(client, product)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not Subscription.objects.exists()


def test_cannot_subscribe_to_an_invisible_or_unpublished_product(client, developer):
    product = make_product(state=Product.State.NOT_PUBLISHED)
    assert subscribe(client, product).status_code == 404
    services.update_product(product=product, state=Product.State.PUBLISHED, groups=[])
    assert subscribe(client, product).status_code == 404
    assert not Subscription.objects.exists()


def test_subscribe_is_post_only(client, developer):
    product = make_product()
    assert client.get(reverse("portal:subscribe", args=[product.name])).status_code == 405
    assert not Subscription.objects.exists()
