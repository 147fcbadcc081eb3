"""Small things users notice: the favicon, error pages in the site's layout, admin details."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from apis import services

pytestmark = pytest.mark.django_db


def test_pages_link_the_favicon_and_favicon_ico_leads_to_it(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"


def test_404_and_403_pages_use_the_sites_layout(client):
    missing = client.get("/apis/no-such-api/")
    html = missing.content.decode()
    assert missing.status_code == 404
    assert "Page not found" in html and 'class="brand"' in html and "site-menu" in html
    client.force_login(User.objects.create_user("dev", password="x"))
    refused = client.get(reverse("publisher:index"))
    html = refused.content.decode()
    assert refused.status_code == 403
    assert "You may not open this page" in html and 'class="brand"' in html


def test_admin_inline_rows_are_named_and_the_limit_boxes_are_wide(admin_client):
    api = services.create_api(display_name="Echo", backend_url="ws://b/", url_suffix="echo")
    services.create_product(display_name="Gold", apis=[api])
    html = admin_client.get(reverse("admin:apis_api_change", args=[api.pk])).content.decode()
    assert "Echo on gateway managed" in html and "Echo in product Gold" in html
    assert "object (" not in html
    box = html.split('name="max_message_bytes"')[1].split(">")[0]
    assert 'style="width: 12em"' in box
