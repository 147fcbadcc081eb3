"""Issue 29 item 9 in a real browser at 390 and 1280 px, with a real gateway connection: the
publisher's Live tab updates by itself (a closed connection leaves the table and the count
without Refresh) and shows seconds for a connection opened moments ago."""

import re

import pytest

from tests.support.browser import WIDTHS, make_user, open_page, sign_in
from tests.support.held import HeldConnection, wait_listed
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_live_tab_follows_a_close_by_itself_and_shows_seconds(gateway, catalog, browser, width):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    serve_current_catalog(gateway)
    held = HeldConnection(f"{gateway.ws_url}/echo?subscription-key={catalog.key}").open()
    wait_listed(boss, catalog.subscription.pk, 1)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/apis/{catalog.api.name}/live/")
    table = page.locator("#live")
    row = table.locator("tr[data-connection]")
    assert row.count() == 1
    opened = row.locator("td[data-label=Opened]").inner_text()
    assert re.fullmatch(r"\d+ seconds? ago", opened), opened
    count = page.locator("#live + p")  # the count under the table
    assert count.inner_text().startswith("1 open connection.")

    row.get_by_role("link", name=re.compile("^Close connection")).click()
    page.get_by_role("button", name=re.compile("^Close")).click()
    page.wait_for_url(lambda url: url.endswith("/live/"))
    assert held.wait_closed()[0] is not None
    # No reload from here on: the page itself drops the closed connection and its count.
    page.wait_for_function("document.querySelectorAll('#live tr[data-connection]').length === 0")
    assert "No open connections." in table.inner_text()
    assert count.inner_text().startswith("0 open connections."), count.inner_text()
    assert "closing" not in table.inner_text()
    page.context.close()
