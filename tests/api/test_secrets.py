"""Keys are masked in ordinary responses and read only through the audited listSecrets action."""

import logging

import pytest

from apis import selectors
from apis.models import hash_node_token

pytestmark = pytest.mark.django_db


def test_keys_never_appear_in_get_responses(client_for, objects):
    client = client_for("publisher")
    keys = [objects.own.primary_key, objects.own.secondary_key]
    bodies = [
        client.get("/api/v1/subscriptions/").content,
        client.get(f"/api/v1/subscriptions/{objects.own.pk}/").content,
        client_for("admin").get("/api/v1/users/").content,
    ]
    for body in bodies:
        for key in keys:
            assert key.encode() not in body
    detail = client.get(f"/api/v1/subscriptions/{objects.own.pk}/").json()
    assert detail["primary_key"] == "…" + objects.own.primary_key[-4:]


def test_list_secrets_returns_the_keys_and_writes_an_audit_line(client_for, objects, caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    response = client_for("dev").post(f"/api/v1/subscriptions/{objects.own.pk}/listSecrets/")
    assert response.status_code == 200
    assert response.json() == {
        "primary_key": objects.own.primary_key,
        "secondary_key": objects.own.secondary_key,
    }
    lines = [r.getMessage() for r in caplog.records if r.name == "portico.audit"]
    assert len(lines) == 1
    assert f"subscription={objects.own.pk}" in lines[0] and "user=dev" in lines[0]
    assert objects.own.primary_key not in caplog.text
    assert objects.own.secondary_key not in caplog.text


def test_regenerate_replaces_exactly_one_key(client_for, objects):
    before = (objects.own.primary_key, objects.own.secondary_key)
    url = f"/api/v1/subscriptions/{objects.own.pk}/regenerateKey/"
    response = client_for("dev").post(url, {"key": "secondary"}, format="json")
    assert response.status_code == 200
    objects.own.refresh_from_db()
    assert objects.own.primary_key == before[0]
    assert objects.own.secondary_key != before[1]
    assert objects.own.secondary_key not in response.content.decode()


def test_gateway_node_tokens_are_shown_once_to_admins_and_audited(client_for, objects, caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    url = f"/api/v1/gateways/{objects.gateway.name}/"
    body = {"token": "primary"}
    assert client_for("publisher").post(url + "regenerateToken/", body).status_code == 403
    answer = client_for("admin").post(url + "regenerateToken/", body, format="json").json()
    token = answer["value"]
    assert answer["gateway"] == "edge" and token.startswith("pgw_")
    objects.gateway.refresh_from_db()
    assert objects.gateway.primary_token_hash == hash_node_token(token)  # only the hash is kept
    assert selectors.gateway_for_node_token(token) == objects.gateway
    assert token not in client_for("admin").get(url).content.decode()
    assert "gateway=edge" in caplog.text and token not in caplog.text


def test_a_new_node_token_comes_with_the_commands_that_start_a_node(client_for, objects):
    url = f"/api/v1/gateways/{objects.gateway.name}/regenerateToken/"
    response = client_for("admin").post(url, {}, format="json")  # an empty body: the primary
    answer = response.json()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert answer["token"] == "primary"
    assert f"export PORTICO_GATEWAY_TOKEN={answer['value']}\n" in answer["commands"]
    assert "export PORTICO_CONTROL_URL=http://testserver\n" in answer["commands"]
    assert answer["commands"].endswith(
        "python manage.py run_gateway --host 0.0.0.0 --port 8000 --workers 2"
    )
