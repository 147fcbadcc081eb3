"""The OpenAPI 3 schema builds without warnings, and its documentation pages are served."""

import json
import re

import pytest
from django.core.management import call_command


def test_schema_builds_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "openapi: 3" in text and "/api/v1/subscriptions/{id}/listSecrets/" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/api/schema/", b"openapi"),
        ("/api/schema/swagger-ui/", b"swagger-ui"),
        ("/api/schema/redoc/", b"redoc"),
    ],
)
def test_schema_and_docs_are_served(client, path, marker):
    response = client.get(path)
    assert response.status_code == 200
    assert marker in response.content.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_docs_pages_load_their_assets_from_this_server(client, path):
    """No CDN: every script, stylesheet and image the page names is served by Portico itself."""
    page = client.get(path).content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    urls += re.findall(r"""["']((?:https?:)?//[^"'\s]+)["']""", page)
    external = [u for u in urls if re.match(r"(?i)(https?:)?//", u)]
    assert external == [], external
    assets = [u for u in urls if u.startswith("/static/")]
    assert assets, page
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, url


def build_schema(tmp_path) -> dict:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text())


def action_bodies(schema: dict):
    """(method, path, body schema) of every action on one object (`…/{id}/approve/`, …)."""
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        if not re.search(r"\}/[A-Za-z-]+/?$", path):
            continue
        for method, operation in operations.items():
            if method in ("post", "put"):
                content = operation.get("requestBody", {}).get("content", {})
                body = content.get("application/json", {}).get("schema", {})
                yield method, path, components.get(body.get("$ref", "").rsplit("/", 1)[-1], body)


def test_every_action_documents_each_field_of_its_body(tmp_path):
    """A client learns from the schema alone what `regenerateToken`, `approve`… take."""
    bodies = list(action_bodies(build_schema(tmp_path)))
    paths = {path for _, path, _ in bodies}
    assert "/api/v1/gateways/{name}/regenerateToken/" in paths
    assert "/api/v1/subscriptions/{id}/approve/" in paths
    undocumented = [
        (method, path, field)
        for method, path, body in bodies
        for field, spec in body.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert undocumented == []


def test_closing_a_connection_documents_its_optional_reason_body(tmp_path):
    schema = build_schema(tmp_path)
    close = schema["paths"]["/api/v1/connections/{id}/"]["delete"]
    assert close["requestBody"]["required"] is False
    ref = close["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "close reason the client sees" in body["properties"]["reason"]["description"]
