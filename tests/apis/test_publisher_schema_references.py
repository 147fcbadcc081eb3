"""Issue 23 items 4 and 6 on the publisher pages: the policy editor and the AsyncAPI import form
show a schema reference outside the document, or a chain nested too deep, as a form error with
its JSON path, and nothing is fetched."""

import json

import pytest
from django.urls import reverse

from apis import services
from apis.models import Api
from tests.support.schema_host import (
    SchemaHost,
    chain,
    document,
    remote_references,
    validate_message,
)

pytestmark = pytest.mark.django_db
IMPORT = "/publisher/apis/import/"


def test_the_policy_editor_refuses_a_remote_reference_with_its_path(publisher, tmp_path):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    url = reverse("publisher:api-policy", args=["echo"])
    with SchemaHost() as host:
        schema, path = remote_references(host, tmp_path)["dynamicRef"]
        response = publisher.post(url, {"policy_xml": validate_message(schema)})
        assert host.requests == []
    assert response.status_code == 200
    [message] = response.context["form"].errors["policy_xml"]
    assert message.startswith(f"line 5: <schema>: is not allowed: {path}: refers outside"), message
    assert response.context["error_line"] == 5
    api.refresh_from_db()
    assert api.policy_xml == ""


def test_the_import_form_refuses_a_remote_reference_with_its_path(publisher, tmp_path):
    with SchemaHost() as host:
        schema, _path = remote_references(host, tmp_path)["recursiveRef"]
        text = json.dumps(document({"$ref": "#/components/schemas/s"}, {"s": schema}))
        response = publisher.post(IMPORT, {"document_text": text, "url_suffix": "r"})
        assert host.requests == []
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "$.components.schemas.s['$recursiveRef']: Only references inside the schema (#...) can be"
        " used."
    ]
    assert not Api.objects.exists()


def test_the_import_form_refuses_a_reference_chain_nested_too_deep(publisher):
    text = json.dumps(chain(60, 45))
    response = publisher.post(IMPORT, {"document_text": text, "url_suffix": "deep"})
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith("$.components.schemas.s1.items.items"), error
    assert "nests deeper than 64 levels" in error
    assert not Api.objects.exists()
