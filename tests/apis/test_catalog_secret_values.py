"""The clear values of the secrets policies use travel to nodes (for their log filter) the way
the headers carrying them do, and a catalog without them still reads."""

import json

import pytest

from apis import selectors, services
from apis.wire import catalog_from_json, catalog_to_json

pytestmark = pytest.mark.django_db


def test_secret_values_used_by_policies_travel_in_the_node_config():
    services.create_named_value(name="token", value="tok-used", secret=True)
    services.create_named_value(name="unused", value="tok-unused", secret=True)
    services.create_named_value(name="team", value="blue")  # not secret: not sent as one
    services.create_api(
        display_name="Feed",
        backend_url="ws://b/",
        url_suffix="feed",
        policy_xml=(
            '<policies><inbound><set-backend-service base-url="ws://b/{{token}}/{{team}}" />'
            "</inbound></policies>"
        ),
    )
    catalog = selectors.gateway_catalog("managed")
    assert catalog.secret_values == ("tok-used",)
    config = json.loads(json.dumps(catalog_to_json(catalog)))
    assert config["secret_values"] == ["tok-used"]
    assert catalog_from_json(config) == catalog
    del config["secret_values"]  # from a control plane older than the field
    assert catalog_from_json({**config, "a_later_field": 1}).secret_values == ()
