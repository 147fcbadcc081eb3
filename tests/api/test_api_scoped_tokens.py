"""API-scoped tokens: created once (secret shown once, stored hashed), they list, send to,
broadcast to and close their own API's live connections only; everything else answers 403.
Delivery itself is tested against real gateways in tests/gateway/test_connection_messages.py."""

import logging

import pytest
from rest_framework.test import APIClient

from apis import selectors, services
from apis.models import PersonalAccessToken, hash_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoped(objects, client_for, users):
    """(client with a token scoped to the Chat API, other API's connection id)."""
    other_api = services.create_api(
        display_name="Other", backend_url="wss://other.example/ws", url_suffix="other"
    )
    [other_connection] = live_connections_on(other_api, objects.own, node="node-2")
    created = client_for("publisher").post(
        f"/api/v1/apis/{objects.api.name}/tokens/", {"name": "pusher"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["token"].startswith("pat_") and body["name"] == "pusher"
    # Stored hashed, never shown again.
    token = PersonalAccessToken.objects.get(pk=body["id"])
    assert token.token_hash == hash_token(body["token"]) and token.api == objects.api
    listed = client_for("publisher").get(f"/api/v1/apis/{objects.api.name}/tokens/").json()
    assert [row["name"] for row in listed] == ["pusher"] and "token" not in listed[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    return client, other_connection


def live_connections_on(api, subscription, *, node: str) -> list[str]:
    """live_connections(), from another process (its full list replaces only its own rows)."""
    from django.utils import timezone

    from apis.telemetry import live_services

    entry = {"id": "e" * 32, "api_id": api.pk, "api_name": api.name}
    entry |= {"opened_at": timezone.now().isoformat(), "subscription_id": subscription.pk}
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": node, "worker": "1", "full": True, "opened": [entry]},
    )
    return [entry["id"]]


def test_a_scoped_token_reaches_its_own_apis_connections_only(objects, scoped, caplog):
    client, other = scoped
    caplog.set_level(logging.INFO, logger="portico.audit")
    mine = objects.connection
    # List: its API's only; naming another API is refused.
    rows = client.get("/api/v1/connections/").json()["results"]
    assert {row["api"] for row in rows} == {"chat"} and len(rows) == 2
    assert client.get(f"/api/v1/connections/?api={objects.api.name}").status_code == 200
    assert client.get("/api/v1/connections/?api=other").status_code == 403
    # One connection: its own yes, another API's 403 (not a pretend 404).
    assert client.get(f"/api/v1/connections/{mine}/").status_code == 200
    assert client.get(f"/api/v1/connections/{other}/").status_code == 403
    # Send: another API's refused before anything is sent.
    refused = client.post(f"/api/v1/connections/{other}/messages", {"text": "x"}, format="json")
    assert refused.status_code == 403
    assert "scoped" in refused.json()["errors"][0]["message"]
    # Broadcast: another API refused; with no api named, its own API only (none match the tag).
    body = {"api": "other", "text": "x"}
    assert client.post("/api/v1/connections/broadcast", body, format="json").status_code == 403
    body = {"tag": "room=none", "text": "x"}
    answer = client.post("/api/v1/connections/broadcast", body, format="json")
    assert answer.status_code == 200 and answer.json() == {
        "matched": 0,
        "delivered": 0,
        "failed": 0,
    }
    # Close: another API's 403, its own 202.
    assert client.delete(f"/api/v1/connections/{other}/").status_code == 403
    assert client.delete(f"/api/v1/connections/{mine}/").status_code == 202
    # Nothing else of the management API.
    assert client.get("/api/v1/apis/").status_code == 403
    assert client.get("/api/v1/subscriptions/").status_code == 403
    created = client.post(f"/api/v1/apis/{objects.api.name}/tokens/", {"name": "x"}, format="json")
    assert created.status_code == 403
    audit = [r.getMessage() for r in caplog.records if r.name == "portico.audit"]
    assert any("live connections broadcast" in line and "matched=0" in line for line in audit)
    assert any("live connection closed" in line and mine in line for line in audit)
    assert not any("'x'" in line for line in audit if "broadcast" in line)  # never the payload


def test_a_revoked_scoped_token_stops_at_once_and_is_not_a_personal_token(
    objects, scoped, client_for, users
):
    client, _ = scoped
    token = PersonalAccessToken.objects.get(api=objects.api)
    # Not listed among the publisher's personal tokens (it is on the API's page).
    assert token not in selectors.access_tokens_of(users["publisher"])
    answer = client_for("publisher").delete(f"/api/v1/apis/{objects.api.name}/tokens/{token.pk}/")
    assert answer.status_code == 204
    assert client.get("/api/v1/connections/").status_code == 401
