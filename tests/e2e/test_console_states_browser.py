"""Issue 29 item 10 in a real browser at 390 and 1280 px, against the real gateway: on a plain
HTTP install the console offers no wss:// URL and says why a wss:// attempt fails, the idle state
is not the red of a failure, the empty log says what will appear there, and the API page links to
its console from the top."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apis import services
from tests.support.browser import WIDTHS, make_user, open_page, sign_in
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def developer_on_the_api_page(gateway, catalog, browser, width: int, scheme: str):
    """A developer who may see the Echo API (served as `scheme`), on its portal page."""
    catalog.api.url_scheme = scheme
    catalog.api.save()
    developers = Group.objects.get_or_create(name="Developers")[0]
    services.update_product(product=catalog.product, groups=[developers])
    serve_current_catalog(gateway)
    make_user("dev10").groups.add(developers)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "dev10")
    page.goto(f"{gateway.http_url}/apis/{catalog.api.name}/")
    return page


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_console_on_plain_http_offers_ws_only_and_explains_its_states(
    gateway, catalog, browser, width
):
    page = developer_on_the_api_page(gateway, catalog, browser, width, "both")
    console = page.locator("[data-ws-console]")
    status = console.locator("[data-role=status]")
    hint = console.locator("[data-role=log-hint]")

    # A link near the top of the page leads to the console.
    link = page.locator("a[data-console-link]")
    assert link.bounding_box()["y"] < 900, link.bounding_box()
    link.click()
    heading = page.locator("#try-heading").bounding_box()
    # In view: scrolling to an anchor may leave it a fraction of a pixel above the top.
    assert -1 <= heading["y"] < 900, heading

    # The gateway serves no TLS here: only ws:// is offered.
    urls = console.locator("select[data-role=url] option").all_inner_texts()
    assert urls == [f"{gateway.ws_url}/{catalog.api.url_suffix}"], urls

    # Idle is neutral and says so; the empty log says what will appear there.
    expect(status).to_have_text("Not connected")
    idle = background(status)
    expect(hint).to_be_visible()

    # A refused attempt (no key) is the red state, with the reason in the log.
    console.locator("select[data-role=key]").select_option("")
    console.get_by_role("button", name="Connect", exact=True).click()
    expect(status).to_have_text("Connection failed", timeout=20_000)
    assert background(status) != idle
    expect(console.locator("[data-role=log] li[data-kind=Error]")).to_contain_text("401")
    expect(hint).to_be_hidden()
    console.get_by_role("button", name="Clear log").click()
    expect(hint).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_wss_only_api_on_plain_http_says_why_the_console_cannot_connect(
    gateway, catalog, browser, width
):
    page = developer_on_the_api_page(gateway, catalog, browser, width, "wss")
    console = page.locator("[data-ws-console]")
    expect(console.locator("[data-role=tls-note]")).to_be_visible()
    console.locator("select[data-role=key]").select_option("")
    console.get_by_role("button", name="Connect", exact=True).click()
    expect(console.locator("[data-role=status]")).to_have_text("Connection failed", timeout=20_000)
    error = console.locator("[data-role=log] li[data-kind=Error]")
    expect(error).to_contain_text("no TLS (wss://) handshake")
    expect(error).to_contain_text("use a ws:// URL")
    page.context.close()
