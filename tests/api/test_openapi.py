"""The OpenAPI 3 schema builds without warnings, and its documentation pages are served."""

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
