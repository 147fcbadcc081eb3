"""The AsyncAPI contract's payload schemas reach a gateway's catalog and a node's JSON config."""

import json

import pytest

from apis import services
from apis.selectors import gateway_catalog
from apis.wire import catalog_from_json, catalog_to_json

pytestmark = pytest.mark.django_db

CONTRACT = {
    "channels": [
        {
            "name": "chat",
            "messages": [
                {"name": "say", "directions": ["send"], "payload": {"required": ["say"]}},
                {"name": "any", "directions": ["send", "receive"]},
            ],
        }
    ]
}


def test_message_schemas_travel_in_the_node_config():
    gateway = services.ensure_builtin_gateway()
    with_contract = services.create_api(
        display_name="Chat", backend_url="ws://a.example/", url_suffix="chat", gateways=[gateway]
    )
    services.update_api(api=with_contract, asyncapi_contract=CONTRACT)
    services.create_api(
        display_name="Plain", backend_url="ws://b.example/", url_suffix="plain", gateways=[gateway]
    )
    catalog = gateway_catalog(gateway.name)
    by_suffix = {api.url_suffix: api for api in catalog.apis}
    assert by_suffix["chat"].message_schemas == {
        "send": [{"required": ["say"]}, {}],
        "receive": [{}],
    }
    assert by_suffix["plain"].message_schemas is None
    config = catalog_to_json(catalog)
    assert [("message_schemas" in api) for api in config["apis"]] == [True, False]
    pulled = catalog_from_json(json.loads(json.dumps(config)))
    assert pulled == catalog
