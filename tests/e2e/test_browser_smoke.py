"""The real browser reaches the real server: the portal home and the admin login render."""

import pytest

from tests.support.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_portal_home_and_admin_login_render(gateway, page):
    page.goto(f"{gateway.http_url}/")
    assert page.locator("a.brand").inner_text() == "Portico"
    screenshot(page, "portal-home")
    page.goto(f"{gateway.http_url}/admin/login/")
    assert page.locator("#id_username").is_visible()
