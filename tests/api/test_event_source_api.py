"""Event-source APIs in the management REST API and the Add API form: each backend kind saved
with its `source` object, and every bad value answered with its field and reason."""

import pytest

from apis.models import Api
from apis.selectors import gateway_catalog
from gateway.catalog.eventsource import EventSource
from gateway.catalog.wire import catalog_from_json, catalog_to_json

pytestmark = pytest.mark.django_db

PRICES = '@("prices." + context.Request.Url.Query.GetValueOrDefault("symbol", "btc"))'


def new_api(**overrides) -> dict:
    return {
        "display_name": "Prices",
        "backend_url": "redis://127.0.0.1:6379/0",
        "url_suffix": "prices",
        "source": {"subscribe": PRICES, "allow": ["prices.*"]},
        **overrides,
    }


@pytest.mark.parametrize(
    ("backend_url", "source", "kind"),
    [
        ("redis://127.0.0.1:6379/0", {"subscribe": PRICES, "allow": ["prices.*"]}, "redis"),
        ("rediss://cache.example:6380", {"subscribe": "orders", "envelope": False}, "redis"),
        ("nats://127.0.0.1:4222", {"subscribe": "prices.>", "publish": "orders.new"}, "nats"),
        ("mqtt://127.0.0.1:1883", {"subscribe": "sensors/+/t", "overflow": "close"}, "mqtt"),
        ("mqtts://broker.example", {"subscribe": "a/#", "queue": 16}, "mqtt"),
        ("wss://chat.example/ws", {}, "websocket"),
    ],
)
def test_each_backend_kind_is_saved_and_reaches_the_gateway_catalog(
    client_for, backend_url, source, kind
):
    client = client_for("publisher")
    response = client.post(
        "/api/v1/apis/", new_api(backend_url=backend_url, source=source), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["backend_kind"] == kind
    assert body["source"] == source
    catalog = catalog_from_json(catalog_to_json(gateway_catalog("managed")))
    (entry,) = catalog.apis
    if kind == "websocket":
        assert entry.source is None
    else:
        assert isinstance(entry.source, EventSource)
        assert entry.source.subscribe == source["subscribe"]
        assert entry.source.queue == source.get("queue", 256)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"source": {}}, "source.subscribe: an event-source backend needs"),
        ({"source": {"subscribe": "@(context.Nope)", "allow": ["x"]}}, "source.subscribe: column"),
        ({"source": {"subscribe": PRICES}}, "source.allow: an expression needs"),
        ({"source": {"subscribe": "x", "allow": ["a b"]}}, "source.allow[0]"),
        ({"source": {"subscribe": "x", "queue": 0}}, "source.queue"),
        ({"source": {"subscribe": "x", "overflow": "block"}}, "source.overflow"),
        ({"source": {"subscribe": "x", "topic": "y"}}, "source.topic: unknown key"),
        ({"backend_url": "nats://h:4222", "source": {"subscribe": "a.>.b"}}, "source.subscribe"),
        ({"backend_url": "mqtt://h", "source": {"subscribe": "a/b#"}}, "source.subscribe"),
        ({"backend_url": "mqtt://h", "source": {"subscribe": "a", "publish": "a/+"}}, "publish"),
        ({"backend_url": "wss://h/ws", "source": {"subscribe": "x"}}, "source: only an event"),
    ],
)
def test_a_bad_source_is_400_naming_the_source_field_and_the_reason(client_for, overrides, words):
    response = client_for("publisher").post("/api/v1/apis/", new_api(**overrides), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["source"]
    assert words in errors[0]["message"]
    assert Api.objects.count() == 0


@pytest.mark.parametrize(
    "backend_url",
    ["redis://:secret@h:6379/0", "redis://h/99", "nats://h:4222/path", "mqtt://h?x=1", "nats://"],
)
def test_a_bad_broker_url_is_400_on_backend_url(client_for, backend_url):
    response = client_for("publisher").post(
        "/api/v1/apis/", new_api(backend_url=backend_url), format="json"
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["backend_url"]


def test_the_add_api_form_saves_an_event_source_and_shows_a_bad_one_beside_its_field(publisher):
    data = {
        "display_name": "Ticks",
        "backend_url": "nats://127.0.0.1:4222",
        "url_scheme": "both",
        "url_suffix": "ticks",
        "subscription_required": "on",
        "source": '{"subscribe": "ticks.>"}',
    }
    bad = publisher.post("/publisher/apis/add/", {**data, "source": '{"subscribe": "ticks.>.x"}'})
    assert bad.status_code == 200
    assert "source.subscribe" in bad.context["form"].errors["source"][0]
    assert publisher.post("/publisher/apis/add/", data).status_code == 302
    assert Api.objects.get(name="ticks").source == {"subscribe": "ticks.>"}


def test_export_then_apply_keeps_the_source_and_a_bad_one_names_its_entry():
    from apis import services
    from apis.api.catalog import apply_catalog, export_catalog

    source = {"subscribe": PRICES, "allow": ["prices.*"], "publish": "orders", "envelope": False}
    services.create_api(
        display_name="Prices", backend_url="redis://127.0.0.1:6379/0", url_suffix="prices",
        source=source,
    )  # fmt: skip
    services.create_api(display_name="Chat", backend_url="wss://chat.example/ws", url_suffix="c")
    exported = export_catalog()
    by_name = {entry["name"]: entry for entry in exported["apis"]}
    assert by_name["prices"]["source"] == source
    assert "source" not in by_name["chat"]  # a WebSocket API's entry is as it always was
    Api.objects.all().delete()
    assert apply_catalog(exported)["created"]
    assert Api.objects.get(name="prices").source == source
    broken = {"apis": [{**by_name["prices"], "source": {"subscribe": PRICES}}]}
    with pytest.raises(Exception) as refused:
        apply_catalog(broken)
    assert "apis[0].source" in str(refused.value.detail)


def asyncapi_document(protocol: str, host: str, receive: str, send: str | None) -> dict:
    channels = {
        "prices": {
            "address": receive,
            "parameters": {"symbol": {"default": "btc", "enum": ["btc", "eth"]}},
            "messages": {"tick": {"payload": {"type": "object"}}},
        }
    }
    operations = {
        "prices.clientReceives": {
            "action": "send",
            "channel": {"$ref": "#/channels/prices"},
            "messages": [{"$ref": "#/channels/prices/messages/tick"}],
        }
    }
    if send:
        channels["orders"] = {"address": send, "messages": {"order": {"payload": {}}}}
        operations["orders.clientSends"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/orders"},
            "messages": [{"$ref": "#/channels/orders/messages/order"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Market", "version": "1.0.0"},
        "servers": {"broker": {"host": host, "protocol": protocol}},
        "channels": channels,
        "operations": operations,
    }


@pytest.mark.parametrize(
    ("protocol", "host", "receive", "send", "source"),
    [
        (
            "nats", "127.0.0.1:4222", "prices.{symbol}", "orders.new",
            {
                "subscribe": '@("prices." + context.Request.Url.Query.GetValueOrDefault('
                '"symbol", "btc"))',
                "allow": ["prices.*"],
                "publish": "orders.new",
            },
        ),
        ("mqtt", "broker.example:1883", "sensors/+/t", None, {"subscribe": "sensors/+/t"}),
        ("redis", "127.0.0.1:6379", "ticks", "orders", {"subscribe": "ticks", "publish": "orders"}),
    ],
)  # fmt: skip
def test_an_asyncapi_document_with_a_broker_server_imports_as_an_event_source(
    client_for, protocol, host, receive, send, source
):
    document = asyncapi_document(protocol, host, receive, send)
    response = client_for("publisher").post(
        "/api/v1/apis/import-asyncapi/",
        {"document": document, "url_suffix": "market"},
        format="json",
    )
    assert response.status_code == 201, response.content
    api = Api.objects.get(url_suffix="market")
    assert api.backend_url == f"{protocol}://{host}"
    assert api.backend_kind == {"redis": "redis"}.get(protocol, protocol)
    assert api.source == source
