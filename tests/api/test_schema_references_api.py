"""Issue 23 items 4 and 6 through the management API: schemas that refer outside themselves are
refused with the JSON path of the reference and never fetched; reference chains that nest too
deep are refused with a path instead of crashing."""

import pytest

from apis import services
from apis.models import Api
from tests.support.schema_host import (
    KINDS,
    MAX_DEPTH,
    SchemaHost,
    chain,
    document,
    remote_references,
    validate_message,
)

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/apis/import-asyncapi/"


def errors_of(response) -> list[str]:
    assert response.status_code == 400, response.content[:500]
    return [f"{e['field']}: {e['message']}" for e in response.json()["errors"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_policy_schema_referring_outside_itself_is_refused_with_its_path(
    client_for, users, kind, tmp_path
):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    with SchemaHost() as host:
        schema, path = remote_references(host, tmp_path)[kind]
        response = client_for("publisher").put(
            f"/api/v1/apis/{api.name}/policy",
            {"policy_xml": validate_message(schema)},
            format="json",
        )
        [error] = errors_of(response)
        assert host.requests == []
    assert error.startswith("policy_xml: line 5: <schema>: is not allowed: "), error
    assert f"{path}: refers outside the schema" in error
    assert "127.0.0.1" not in error and "file:" not in error
    api.refresh_from_db()
    assert api.policy_xml == ""


def test_a_policy_schema_with_local_references_is_saved(client_for, users):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    schema = {
        "definitions": {"x": {"type": "string"}},
        "properties": {"a": {"$ref": "#/definitions/x"}},
    }
    response = client_for("publisher").put(
        f"/api/v1/apis/{api.name}/policy", {"policy_xml": validate_message(schema)}, format="json"
    )
    assert response.status_code == 200, response.content[:500]


@pytest.mark.parametrize("kind", KINDS)
def test_an_asyncapi_payload_referring_outside_the_document_is_refused_with_its_path(
    client_for, users, kind, tmp_path
):
    with SchemaHost() as host:
        schema, path = remote_references(host, tmp_path)[kind]
        body = {"document": document({"$ref": "#/components/schemas/s"}, {"s": schema})}
        errors = errors_of(
            client_for("publisher").post(IMPORT, body | {"url_suffix": "r"}, format="json")
        )
        assert host.requests == []
    where = "$.components.schemas.s" + path[1:]
    assert any(e.startswith(f"document: {where}: Only references inside the") for e in errors), (
        where,
        errors,
    )
    assert not Api.objects.exists()


def test_local_references_in_a_payload_are_inlined_or_kept(client_for, users):
    payload = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$dynamicAnchor": "node",
        "type": "object",
        "properties": {
            "name": {"$ref": "#/components/schemas/name"},
            "kids": {"$dynamicRef": "#node"},
        },
    }
    body = {"document": document(payload, {"name": {"type": "string"}}), "url_suffix": "r"}
    response = client_for("publisher").post(IMPORT, body, format="json")
    assert response.status_code == 201, response.content[:500]
    [channel] = Api.objects.get().asyncapi_contract["channels"]
    saved = channel["messages"][0]["payload"]
    assert saved["properties"] == {"name": {"type": "string"}, "kids": {"$dynamicRef": "#node"}}


@pytest.mark.parametrize(
    ("schemas", "depth", "where"),
    [
        (60, 45, "$.components.schemas.s1" + ".items" * 18),  # 1 + 45 + 1 + 18 levels
        (2000, 0, "$.components.schemas.s63['$ref']"),  # references to references
    ],
    ids=["60x45", "2000-references"],
)
def test_reference_chains_nesting_too_deep_are_refused_with_the_path(
    client_for, users, schemas, depth, where
):
    response = client_for("publisher").post(
        IMPORT, {"document": chain(schemas, depth), "url_suffix": "deep"}, format="json"
    )
    [error] = errors_of(response)
    assert error.startswith(f"document: {where}: With its references followed, the value nests"), (
        error
    )
    assert f"deeper than {MAX_DEPTH} levels" in error
    assert not Api.objects.exists()


def test_a_chain_within_the_limit_is_read(client_for, users):
    response = client_for("publisher").post(
        IMPORT, {"document": chain(4, 10), "url_suffix": "deep"}, format="json"
    )
    assert response.status_code == 201, response.content[:500]


def test_the_nesting_limit_is_64():
    """One limit for policy schemas and AsyncAPI payloads (the documentation says 64)."""
    from apis.asyncapi import refs
    from gateway.policies import jsonschemas

    assert jsonschemas.MAX_DEPTH == refs.MAX_DEPTH == MAX_DEPTH == 64
