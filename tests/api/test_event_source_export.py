"""AsyncAPI export of event-source APIs: a valid 3.0 document with the gateway as its server,
the envelope clients receive, where their messages go, resume as WebSocket channel bindings
(Redis Streams and NATS; MQTT cannot resume), and never the broker's URL."""

import pytest

from apis.asyncapi.schema_check import check
from apis.asyncapi.source_writing import SOURCE_MARK

pytestmark = pytest.mark.django_db

BROKERS = {
    "redis": "redis://10.0.0.7:6379/0",
    "nats": "nats://10.0.0.8:4222",
    "mqtt": "mqtt://10.0.0.9:1883",
}


def exported(client, kind: str, source: dict) -> dict:
    body = {
        "display_name": f"Feed {kind}",
        "backend_url": BROKERS[kind],
        "url_suffix": f"feed-{kind}",
        "source": source,
    }
    created = client.post("/api/v1/apis/", body, format="json")
    assert created.status_code == 201, created.content
    answer = client.get(f"/api/v1/apis/{created.json()['name']}/asyncapi")
    assert answer.status_code == 200, answer.content[:300]
    return answer.json()


@pytest.mark.parametrize("kind", ["redis", "nats"])
def test_a_stream_api_exports_its_envelope_and_how_to_resume(client_for, kind):
    document = exported(client_for("publisher"), kind, {"subscribe": "prices", "publish": "orders"})
    assert check(document) == "3.0.0"
    assert document[SOURCE_MARK] == {
        "kind": kind,
        "envelope": True,
        "resume": True,
        "clientMessages": True,
    }
    assert all(server["protocol"] in ("ws", "wss") for server in document["servers"].values())
    channel = document["channels"]["events"]
    assert channel["messages"]["event"]["payload"]["required"] == ["id", "subject", "data"]
    binding = channel["bindings"]["ws"]
    assert "last-event-id" in binding["query"]["properties"]
    assert "Last-Event-ID" in binding["headers"]["properties"]
    actions = {op["action"] for op in document["operations"].values()}
    assert actions == {"send", "receive"}  # events to the client, its messages to the broker
    assert "10.0.0." not in str(document)  # the broker stays the publisher's business


def test_an_mqtt_api_says_it_cannot_resume_and_a_raw_feed_has_no_envelope(client_for):
    source = {"subscribe": "sensors/#", "envelope": False}
    document = exported(client_for("publisher"), "mqtt", source)
    assert check(document) == "3.0.0"
    assert document[SOURCE_MARK]["resume"] is False
    assert document[SOURCE_MARK]["clientMessages"] is False
    channel = document["channels"]["events"]
    assert "bindings" not in channel
    assert channel["messages"]["event"]["payload"] == {}
    assert [op["action"] for op in document["operations"].values()] == ["send"]


def test_a_websocket_api_exports_no_event_source(client_for):
    client = client_for("publisher")
    body = {"display_name": "Chat", "backend_url": "wss://chat.example/ws", "url_suffix": "chat"}
    assert client.post("/api/v1/apis/", body, format="json").status_code == 201
    document = client.get("/api/v1/apis/chat/asyncapi").json()
    assert SOURCE_MARK not in document and "channels" not in document
