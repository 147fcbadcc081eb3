"""The contract side of validate-message: payload schemas by direction, usable as JSON Schema."""

import json

import pytest
from jsonschema import Draft7Validator

from apis.asyncapi.contract import message_schemas
from apis.asyncapi.reading import read
from tests.apis.asyncapi_documents import text


def schemas(file: str, server: str) -> dict:
    return message_schemas(read(text(file), server=server).contract)


def matches(candidates, payload) -> list[str]:
    return [c.message for c in candidates if Draft7Validator(c.schema).is_valid(payload)]


def test_messages_by_direction_from_a_3_0_document():
    found = schemas("chat-3.0.json", "local")
    assert [(s.channel, s.message) for s in found["send"]] == [
        ("room", "chatMessage"),
        ("room", "typing"),
    ]
    assert [(s.channel, s.message) for s in found["receive"]] == [
        ("room", "chatMessage"),
        ("room", "joined"),
        ("room", "typing"),
        ("presence", "roster"),
    ]
    assert {s.content_type for s in found["send"]} == {"application/json"}
    hello = {"type": "message", "text": "Hello, room!"}
    assert matches(found["send"], hello) == ["chatMessage"]
    assert matches(found["send"], {"type": "message", "text": ""}) == []  # minLength from a $ref
    assert matches(found["send"], {"type": "joined", "room": "a"}) == []  # only received
    assert matches(found["receive"], {"type": "joined", "room": "a"}) == ["joined"]


@pytest.mark.parametrize(
    ("payload", "direction", "expected"),
    [
        ({"event": "subscribe", "subscription": {"name": "ticker"}}, "send", ["subscribe"]),
        ({"event": "subscribe", "subscription": {"name": "nope"}}, "send", []),
        ({"event": "ping", "reqid": 7}, "send", ["ping"]),
        ({"event": "pong"}, "send", []),
        ({"event": "pong"}, "receive", ["pong"]),
        ({"event": "systemStatus", "status": "online"}, "receive", ["systemStatus"]),
    ],
)  # fmt: skip
def test_messages_by_direction_from_a_2_6_document(payload, direction, expected):
    found = schemas("kraken-2.6.yaml", "public")
    assert matches(found[direction], payload) == expected


def test_an_api_without_a_contract_has_no_schemas():
    assert message_schemas({}) == {"send": [], "receive": []}


def test_a_recursive_schema_is_cut_where_it_repeats():
    document = {
        "asyncapi": "2.6.0",
        "info": {"title": "Tree", "version": "1"},
        "channels": {
            "/": {"publish": {"message": {"payload": {"$ref": "#/components/schemas/node"}}}}
        },
        "components": {
            "schemas": {
                "node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/node"},
                        },
                    },
                    "required": ["name"],
                }
            }
        },
    }
    [schema] = message_schemas(read(json.dumps(document), need_backend=False).contract)["send"]
    children = schema.schema["properties"]["children"]["items"]
    assert children == {"x-portico-recursive": "#/components/schemas/node"}
    assert Draft7Validator(schema.schema).is_valid({"name": "a", "children": [{"x": 1}]})
    assert not Draft7Validator(schema.schema).is_valid({"children": []})
