"""AsyncAPI through the management API: import (2.6 and 3.0), refusals with paths, export."""

import json

import pytest
import yaml

from apis import services
from apis.asyncapi import schema_check
from apis.models import Api
from tests.apis.asyncapi_documents import text

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/apis/import-asyncapi/"


def post(client, **body):
    return client.post(IMPORT, body, format="json")


def messages_of(api: Api) -> dict:
    return {
        (c["name"], m["name"]): m for c in api.asyncapi_contract["channels"] for m in c["messages"]
    }


def test_import_2_6_yaml_asks_for_a_server_then_uses_it(client_for, users):
    client = client_for("publisher")
    response = post(client, document=text("kraken-2.6.yaml"), url_suffix="kraken")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "server"
    assert "public (wss://ws.kraken.com)" in error["message"]
    assert "beta (wss://beta-ws.kraken.com:443)" in error["message"]  # variable default filled
    assert "kafka" not in error["message"]  # only ws/wss servers are candidates

    response = post(client, document=text("kraken-2.6.yaml"), url_suffix="kraken", server="beta")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "kraken-websockets-api"
    assert body["display_name"] == "Kraken Websockets API"
    assert body["backend_url"] == "wss://beta-ws.kraken.com:443"
    assert body["description"].startswith("WebSockets API offers real-time market data")
    api = Api.objects.get(name="kraken-websockets-api")
    assert [c["address"] for c in api.asyncapi_contract["channels"]] == ["/"]
    messages = messages_of(api)
    # publish = what the client sends, subscribe = what it receives (AsyncAPI 2.x)
    assert {name for (_, name), m in messages.items() if m["directions"] == ["send"]} == {
        "ping",
        "subscribe",
        "unsubscribe",
    }
    assert messages[("/", "heartbeat")]["directions"] == ["receive"]
    subscribe = messages[("/", "subscribe")]
    # $refs into components/schemas are inlined
    interval = subscribe["payload"]["properties"]["subscription"]["properties"]["interval"]
    assert interval["enum"][:3] == [1, 5, 15]
    assert subscribe["contentType"] == "application/json"  # from defaultContentType
    assert [e["name"] for e in subscribe["examples"]] == ["ticker", "ohlc"]


def test_import_3_0_json_object_with_variables_replies_and_several_channels(client_for, users):
    document = json.loads(text("chat-3.0.json"))
    response = post(client_for("publisher"), document=document, url_suffix="chat", server="staging")
    assert response.status_code == 201, response.json()
    api = Api.objects.get(name="chat-rooms")
    assert api.backend_url == "wss://staging.chat.example.com:8443/v2"
    channels = api.asyncapi_contract["channels"]
    assert [(c["name"], c["address"]) for c in channels] == [
        ("room", "/rooms/{roomId}"),
        ("presence", "/presence"),
    ]
    messages = messages_of(api)
    assert messages[("room", "chatMessage")]["directions"] == ["send", "receive"]
    assert messages[("room", "joined")]["directions"] == ["receive"]  # the reply of a receive
    assert messages[("presence", "roster")]["directions"] == ["receive"]  # all of the channel
    user = messages[("room", "typing")]["payload"]["properties"]["user"]
    assert user["required"] == ["id", "name"]


def test_import_again_updates_the_api_and_keeps_its_suffix(client_for, users):
    client = client_for("publisher")
    document = text("market-data-3.0.yaml")
    assert post(client, document=document, url_suffix="market").status_code == 201
    changed = document.replace("title: Market Data", "title: Market Data").replace(
        "Live prices for a few currency pairs.", "Live prices."
    )
    response = post(client, document=changed, name="market-data")
    assert response.status_code == 200, response.json()
    api = Api.objects.get(name="market-data")
    assert api.url_suffix == "market" and api.description == "Live prices."
    assert Api.objects.count() == 1


def test_a_new_api_needs_a_suffix(client_for, users):
    response = post(client_for("publisher"), document=text("market-data-3.0.yaml"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "url_suffix"


MINIMAL = {"asyncapi": "3.0.0", "info": {"title": "T", "version": "1"}}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("asyncapi: 3.0.0\ninfo: [unclosed", ["$: Not valid YAML"]),
        ("- just\n- a list\n", ["$: An AsyncAPI document is a mapping"]),
        ({"asyncapi": "1.2.0", "info": {}}, ["$.asyncapi: AsyncAPI '1.2.0' is not supported"]),
        (
            {
                "asyncapi": "3.0.0",
                "info": {"version": "1"},
                "channels": {"a": {"address": 5}},
                "operations": {"o": {"action": "publish", "channel": {"$ref": "#/channels/a"}}},
            },
            [
                "$.info: 'title' is a required property",
                "$.channels.a.address: 5 is not of type 'string', 'null'",
                "$.operations.o.action: 'publish' is not one of ['send', 'receive']",
            ],
        ),
        (
            {
                "asyncapi": "2.6.0",
                "info": {"title": "T", "version": "1"},
                "servers": {"s": {"url": "x.example", "protocol": "wss"}},
                "channels": {
                    "/": {
                        "publish": {"message": {"$ref": "#/components/messages/missing"}},
                        "subscribe": {"message": {"$ref": "common.yaml#/components/messages/x"}},
                    }
                },
            },
            [
                "$.channels['/'].publish.message: #/components/messages/missing points at nothing",
                "$.channels['/'].subscribe.message: Only references inside the document",
            ],
        ),
        (
            {
                **MINIMAL,
                "channels": {"c": {"messages": {"m": {"payload": {"type": "object"}}}}},
                "operations": {
                    "o": {
                        "action": "send",
                        "channel": {"$ref": "#/channels/c"},
                        "messages": [{"$ref": "#/channels/c/messages/nope"}],
                    }
                },
            },
            ["$.operations.o.messages[0]: #/channels/c/messages/nope is not a message of"],
        ),
    ],
    ids=["yaml", "not-a-mapping", "version", "schema", "refs", "operation-message"],
)
def test_broken_documents_are_refused_with_the_path_of_each_problem(
    client_for, users, document, expected
):
    response = post(client_for("publisher"), document=document, url_suffix="x")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == {"document"}, errors
    messages = [e["message"] for e in errors]
    for start in expected:
        assert any(m.startswith(start) for m in messages), (start, messages)
    assert not Api.objects.exists()


def export(client, name: str, fmt: str | None = None):
    suffix = f"?format={fmt}" if fmt else ""
    response = client.get(f"/api/v1/apis/{name}/asyncapi{suffix}")
    assert response.status_code == 200, response.content[:300]
    if fmt == "yaml":
        assert response["Content-Type"].startswith("application/yaml")
        return yaml.safe_load(response.content)
    return response.json()


def test_export_is_a_valid_3_0_document_with_the_gateway_as_server(client_for, users):
    client = client_for("publisher")
    post(client, document=text("chat-3.0.json"), url_suffix="chat", server="production")
    document = export(client, "chat-rooms")
    assert schema_check.check(document) == "3.0.0"
    assert document["info"] == {
        "title": "Chat Rooms",
        "version": "2.1.0",
        "description": "Join a room, post messages and see everyone's messages as they arrive.",
    }
    assert {(s["protocol"], s["host"], s["pathname"]) for s in document["servers"].values()} == {
        ("ws", "testserver", "/chat"),
        ("wss", "testserver", "/chat"),
    }
    assert "chat.example.com" not in json.dumps(document)  # never the backend's address
    schemes = document["components"]["securitySchemes"]
    assert schemes["subscriptionKeyHeader"] == {
        "type": "httpApiKey",
        "name": "Ocp-Apim-Subscription-Key",
        "in": "header",
        "description": schemes["subscriptionKeyHeader"]["description"],
    }
    assert (schemes["subscriptionKeyQuery"]["in"], schemes["subscriptionKeyQuery"]["name"]) == (
        "query",
        "subscription-key",
    )
    assert set(document["channels"]["room"]["messages"]) == {"chatMessage", "joined", "typing"}
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions == {
        "room.clientSends": "receive",
        "room.clientReceives": "send",
        "presence.clientReceives": "send",
    }
    assert export(client, "chat-rooms", "yaml") == document


def test_an_api_made_by_the_form_exports_a_valid_document(client_for, users):
    api = services.create_api(
        display_name="Plain", backend_url="ws://plain.example/", url_suffix="plain"
    )
    services.update_api(api=api, url_scheme="wss", subscription_required=False)
    document = export(client_for("publisher"), "plain", "yaml")
    assert schema_check.check(document) == "3.0.0"
    assert list(document["servers"]) == ["wss"]
    assert "components" not in document and "security" not in document["servers"]["wss"]


@pytest.mark.parametrize(
    ("file", "server"), [("kraken-2.6.yaml", "public"), ("chat-3.0.json", "local")]
)
def test_export_import_export_is_stable(client_for, users, file, server):
    client = client_for("publisher")
    response = post(client, document=text(file), url_suffix="first", server=server)
    assert response.status_code == 201
    name = response.json()["name"]
    first = export(client, name, "yaml")
    # into a second API (its own suffix and backend: the export's servers are the gateway) ...
    again = post(
        client,
        document=yaml.safe_dump(first, sort_keys=False),
        name="second",
        url_suffix="second",
        backend_url="ws://second.example/",
    )
    assert again.status_code == 201, again.json()
    second = export(client, "second", "yaml")
    for server_entry in second["servers"].values():
        server_entry["pathname"] = "/first"
    assert second == first
    # ... and back over the first API, which keeps its backend
    backend = Api.objects.get(name=name).backend_url
    response = post(client, document=first, name=name)
    assert response.status_code == 200
    assert export(client, name, "yaml") == first
    assert Api.objects.get(name=name).backend_url == backend


def test_an_update_keeps_its_backend_unless_told_and_never_takes_the_gateway(client_for, users):
    client = client_for("publisher")
    assert post(client, document=text("market-data-3.0.yaml"), url_suffix="m").status_code == 201
    moved = text("market-data-3.0.yaml").replace("host: feed.example.com", "host: new.example")
    assert post(client, document=moved).status_code == 200
    assert Api.objects.get().backend_url == "wss://feed.example.com/marketdata"
    assert post(client, document=moved, server="production").status_code == 200
    assert Api.objects.get().backend_url == "wss://new.example/marketdata"

    own = export(client, "market-data")
    assert {s["x-portico-gateway"] for s in own["servers"].values()} == {True}
    response = post(client, document=own, server="ws")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "server" and error["message"].startswith("$.servers.ws: The server")
    response = post(client, document=own, name="copy", url_suffix="copy")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "backend_url" and "Portico gateway" in error["message"]
    assert Api.objects.get().backend_url == "wss://new.example/marketdata"


def test_export_refuses_an_unknown_format(client_for, users):
    services.create_api(display_name="Plain", backend_url="ws://p.example/", url_suffix="plain")
    response = client_for("publisher").get("/api/v1/apis/plain/asyncapi?format=xml")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_address_parameters_are_kept_in_3_0_shape_from_2_6_and_exported(client_for, users):
    document = {
        "asyncapi": "2.6.0",
        "info": {"title": "Rooms", "version": "1"},
        "servers": {"s": {"url": "rooms.example", "protocol": "wss"}},
        "channels": {
            "/rooms/{roomId}": {
                "parameters": {"roomId": {"$ref": "#/components/parameters/roomId"}},
                "publish": {"message": {"payload": {"type": "string"}}},
            }
        },
        "components": {
            "parameters": {
                "roomId": {
                    "description": "The room.",
                    "schema": {"type": "integer", "enum": [1, 2]},
                }
            }
        },
    }
    client = client_for("publisher")
    assert post(client, document=document, url_suffix="rooms").status_code == 201
    exported = export(client, "rooms")
    assert schema_check.check(exported) == "3.0.0"
    channel = exported["channels"]["/rooms/{roomId}"]
    assert channel["parameters"] == {"roomId": {"description": "The room.", "enum": ["1", "2"]}}
    assert channel["address"] == "/rooms/{roomId}"
