"""`POST /api/v1/catalog/apply/` answers 400 naming every wrong field (issue 12, item 18)."""

import pytest

from apis.models import Api, Product

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "apis": [
        {"name": "chat", "display_name": "Chat", "backend_url": "wss://chat.example/ws",
         "url_suffix": "chat", "max_message_bytes": "lots"},
        {"name": "feed", "display_name": "Feed", "backend_url": "ftp://feed.example",
         "url_suffix": "feed", "subscription_required": "maybe"},
        {"name": "news", "display_name": "News", "backend_url": "wss://news.example/ws",
         "url_suffix": "news", "idle_timeout_seconds": None},
    ],
    "products": [
        {"name": "starter", "display_name": "Starter", "subscriptions_limit": [1],
         "apis": ["chat"]},
        {"name": "gold", "display_name": "Gold", "apis": ["nope"]},
    ],
}  # fmt: skip


def test_wrong_types_are_a_400_naming_every_field(client_for, users):
    response = client_for("publisher").post("/api/v1/catalog/apply/", DOCUMENT, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == 400
    fields = {e["field"] for e in body["errors"]}
    assert {
        "apis[0].max_message_bytes",
        "apis[1].backend_url",
        "apis[1].subscription_required",
        "products[0].subscriptions_limit",
        "products[1].apis",
    } <= fields, body
    assert all(e["message"] for e in body["errors"])
    assert not Api.objects.exists() and not Product.objects.exists()  # atomic


def test_a_single_wrong_type_is_a_400_not_a_server_error(client_for, users):
    document = {"apis": [DOCUMENT["apis"][0]]}
    response = client_for("publisher").post("/api/v1/catalog/apply/", document, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["apis[0].max_message_bytes"]
