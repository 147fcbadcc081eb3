"""POST /api/v1/subscriptions/{id}/connectTickets/: who may mint a ticket, and what it holds."""

import time

import pytest
from rest_framework.test import APIClient

from apis import tickets
from apis.models import Gateway

pytestmark = pytest.mark.django_db


def url(subscription) -> str:
    return f"/api/v1/subscriptions/{subscription.pk}/connectTickets/"


def secret_of(name: str = "managed") -> str:
    return Gateway.objects.get(name=name).key_hash_secret


@pytest.mark.parametrize("role", ["publisher", "admin", "dev"])
def test_a_publisher_token_or_the_owner_mints_a_ticket_for_the_api(client_for, objects, role):
    response = client_for(role).post(
        url(objects.own), {"api": objects.api.name, "origin": "https://app.example"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Cache-Control"] == "no-store"
    assert body["url"] == f"ws://testserver/chat?ticket={body['ticket']}"
    assert body["gateway"] == "managed"
    ticket = tickets.verify(secret_of(), body["ticket"])
    assert (ticket.subscription_id, ticket.api_id) == (objects.own.pk, objects.api.pk)
    assert ticket.origin == "https://app.example"
    assert 55 <= ticket.expires_at - time.time() <= 60
    assert objects.own.primary_key not in response.content.decode()


def test_the_subscription_key_itself_mints_a_ticket_without_any_login(objects):
    client = APIClient()
    response = client.post(
        url(objects.own),
        {"api": objects.api.name, "expires_in": 5},
        format="json",
        HTTP_OCP_APIM_SUBSCRIPTION_KEY=objects.own.secondary_key,
    )
    assert response.status_code == 201, response.content
    ticket = tickets.verify(secret_of(), response.json()["ticket"])
    assert ticket.expires_at - time.time() <= 5


def test_a_wrong_key_or_another_subscriptions_key_is_refused(objects):
    client = APIClient()
    for key in ("not-a-key", objects.others.primary_key):
        response = client.post(
            url(objects.own),
            {"api": objects.api.name},
            format="json",
            HTTP_OCP_APIM_SUBSCRIPTION_KEY=key,
        )
        assert response.status_code in (401, 403)
        assert "ticket" not in response.json()


def test_nobody_and_other_developers_cannot_mint(client_for, objects):
    assert client_for(None).post(url(objects.own), {"api": "chat"}).status_code in (401, 403)
    assert client_for("dev").post(url(objects.others), {"api": "chat"}).status_code == 404


@pytest.mark.parametrize(
    ("which", "body", "words"),
    [
        ("own", {"api": "nope"}, "No API named"),
        ("suspended", {"api": "chat"}, "not active"),
        ("own", {"api": "chat", "gateway": "edge"}, "not served on gateway"),
        ("own", {"api": "chat", "expires_in": 61}, "60"),
    ],
)
def test_a_ticket_that_could_not_work_is_not_minted(client_for, objects, which, body, words):
    response = client_for("publisher").post(url(getattr(objects, which)), body, format="json")
    assert response.status_code == 400
    assert words in response.content.decode()


def test_a_tampered_or_foreign_ticket_does_not_verify(objects):
    text, _ = tickets.mint(secret_of(), subscription_id=1, api_id=objects.api.pk)
    with pytest.raises(tickets.TicketError, match="signature"):
        tickets.verify(secret_of("edge"), text)
    body, signature = text[len(tickets.PREFIX) :].split(".")
    forged = tickets.PREFIX + body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature
    with pytest.raises(tickets.TicketError):
        tickets.verify(secret_of(), forged)
    with pytest.raises(tickets.TicketError, match="expired"):
        tickets.verify(secret_of(), text, now=time.time() + 61)
