"""The consoles' same-origin ticket endpoints: session + CSRF, only the user's own subscriptions,
a ticket bound to the page's Origin, and an audit line when a publisher uses another's."""

import logging

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from apis import services, tickets
from apis.models import Gateway, Product
from apis.permissions import PUBLISHERS_GROUP

pytestmark = pytest.mark.django_db
ORIGIN = "http://testserver"


@pytest.fixture
def setup():
    developers = Group.objects.get_or_create(name="Developers")[0]
    api = services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="echo"
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api], groups=[developers]
    )
    dev = User.objects.create_user("dev", password="pw-long-enough-1")
    dev.groups.add(developers)
    mine = services.create_subscription(display_name="Mine", owner=dev, product=product)
    other = User.objects.create_user("other", password="pw-long-enough-1")
    theirs = services.create_subscription(display_name="Theirs", owner=other, product=product)
    return api, dev, mine, theirs


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # sets the CSRF cookie
    return client


def post(client: Client, url: str, data: dict):
    token = client.cookies["csrftoken"].value
    return client.post(url, data, HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN=ORIGIN)


def test_the_developer_gets_a_ticket_for_their_own_subscription_bound_to_the_page(setup):
    api, dev, mine, theirs = setup
    client = signed_in(dev)
    url = reverse("portal:api-console-ticket", args=[api.name])
    response = post(client, url, {"subscription": mine.pk})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    ticket = tickets.verify(Gateway.objects.get(name="managed").key_hash_secret, body["ticket"])
    assert (ticket.subscription_id, ticket.origin, body["param"]) == (mine.pk, ORIGIN, "ticket")
    assert mine.primary_key not in response.content.decode()
    assert post(client, url, {"subscription": theirs.pk}).status_code == 400
    assert post(client, url, {"key": "not-a-key"}).status_code == 400
    pasted = post(client, url, {"key": theirs.secondary_key})  # whoever holds a key may use it
    assert pasted.status_code == 200


def test_csrf_and_sign_in_are_required(setup):
    api, dev, mine, _ = setup
    url = reverse("portal:api-console-ticket", args=[api.name])
    client = signed_in(dev)
    assert client.post(url, {"subscription": mine.pk}).status_code == 403  # no CSRF token
    assert client.get(url).status_code == 405
    anonymous = Client()
    assert anonymous.post(url, {"subscription": mine.pk}).status_code == 302  # to sign in


def test_a_publisher_mints_for_any_subscription_and_it_is_audited(setup, caplog):
    api, _, _, theirs = setup
    boss = User.objects.create_user("boss", password="pw-long-enough-1", is_staff=True)
    boss.groups.add(Group.objects.get_or_create(name=PUBLISHERS_GROUP)[0])
    client = signed_in(boss)
    page = client.get(reverse("publisher:api-test", args=[api.name])).content.decode()
    assert theirs.primary_key not in page and theirs.secondary_key not in page
    with caplog.at_level(logging.INFO, logger="portico.audit"):
        response = post(
            client,
            reverse("publisher:api-console-ticket", args=[api.name]),
            {"subscription": theirs.pk},
        )
    assert response.status_code == 200
    assert f"connect ticket minted: subscription={theirs.pk} api={api.name} by user=boss" in (
        caplog.text
    )
