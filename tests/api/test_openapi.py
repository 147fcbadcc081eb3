"""The OpenAPI 3 schema builds without warnings, and its documentation pages are served."""

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
