"""Issue 29 item 12 in a real browser at phone (390 px) and desktop (1280 px) widths: links in
the brand colour, selects as tall as inputs, key rows whose buttons keep their boxes when a key
is shown, Sign out spanning the phone menu, approval said once, a Copy button for a new node
token, and Django admin in Portico's colours with a subscription list that fits 1280 px (all
read from computed styles and element boxes)."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apis import services
from apis.models import Gateway
from tests.support.browser import WIDTHS, make_user, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BRAND = "rgb(36, 87, 197)"  # --accent in static/css/portico.css, the buttons' blue
INK = "rgb(29, 36, 51)"  # --ink, the header


def style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def boxes(locator) -> list[dict]:
    return [locator.nth(i).bounding_box() for i in range(locator.count())]


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def key_row_buttons_stay_put(page, rows, show) -> None:
    """Every button of every key row keeps its box when `show` reveals a key."""
    buttons = rows.locator("button, a.button")
    assert buttons.count() >= 6
    secret = show.locator("xpath=ancestor::*[@data-key-row][1]").locator(".secret")
    masked = secret.inner_text()
    before = boxes(buttons)
    show.click()
    expect(secret).not_to_have_text(masked)
    assert len(secret.inner_text()) >= 40  # the whole key is shown
    assert boxes(buttons) == before


@pytest.mark.parametrize("width", WIDTHS)
def test_developer_pages_are_consistent(gateway, catalog, browser, width):
    developers = Group.objects.get_or_create(name="Developers")[0]
    services.update_product(product=catalog.product, groups=[developers])
    services.create_product(
        display_name="Partners",
        state="published",
        approval_required=True,
        apis=[catalog.api],
        groups=[developers],
    )
    dev = make_user("dana", email="dana@example.com")
    dev.groups.add(developers)
    services.create_subscription(display_name="Dana's app", owner=dev, product=catalog.product)
    page = open_page(browser, width, clipboard=True)
    base = gateway.http_url
    sign_in(page, base, "dana")

    # Products: how subscribing works is said once; only the exception is on a card.
    page.goto(f"{base}/products/")
    fits(page, width)
    expect(page.locator("[data-role=approval-note]")).to_have_count(1)
    cards = page.locator(".product-card")
    expect(cards).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("approved at once")
    expect(cards.filter(has_text="Partners")).to_contain_text("Needs approval")
    expect(cards.filter(has_text="Starter")).not_to_contain_text("approval")

    # Links in the buttons' blue, not the browser's default blue.
    link = cards.get_by_role("link", name="Starter")
    button = page.get_by_role("button", name="Search")
    assert style(link, "color") == BRAND == style(button, "backgroundColor")

    # One height for inputs and (restyled) native selects; buttons beside them match.
    page.goto(f"{base}/apis/echo/")
    console = page.locator("[data-ws-console]")
    select = console.locator("select").first
    text_input = page.locator("main input[type=text], main input[type=search]").first
    assert style(select, "appearance") == "none"
    assert select.bounding_box()["height"] == pytest.approx(
        text_input.bounding_box()["height"], abs=0.5
    )

    # Key rows: Show reveals the key without moving a button (Show/Hide, Copy, Regenerate).
    page.goto(f"{base}/subscriptions/")
    fits(page, width)
    rows = page.locator("[data-key-row]")
    show = page.get_by_role("button", name="Show the primary key of Dana's app")
    key_row_buttons_stay_put(page, rows, show)
    fits(page, width)

    # The phone menu: Sign out spans the menu like the links above it (no stray short border).
    if width < 768:
        page.get_by_role("button", name="Menu").click()
        sign_out = page.get_by_role("button", name="Sign out").bounding_box()
        profile = page.get_by_role("link", name="Profile").bounding_box()
        assert (sign_out["x"], sign_out["width"]) == (profile["x"], profile["width"])
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_publisher_and_admin_pages_are_consistent(gateway, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    dev = make_user("dana", email="dana@example.com")
    services.create_subscription(display_name="Dana's app", owner=dev, product=catalog.product)
    services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
    page = open_page(browser, width, clipboard=True)
    base = gateway.http_url
    sign_in(page, base, "boss")

    # Selects as tall as inputs on a publisher form.
    page.goto(f"{base}/publisher/subscriptions/add/")
    name = page.get_by_label("Display name")
    owner = page.get_by_label("Owner")
    assert owner.evaluate("e => e.tagName") == "SELECT"
    assert owner.bounding_box()["height"] == pytest.approx(name.bounding_box()["height"], abs=0.5)
    assert style(page.locator("main a").first, "color") == BRAND

    # The publisher's key rows keep their boxes too, and the table does not grow sideways.
    page.goto(f"{base}/publisher/subscriptions/")
    fits(page, width)
    row = page.locator("tr", has_text="Dana's app")
    show = row.get_by_role("button", name="Show the primary key of Dana's app")
    key_row_buttons_stay_put(page, row.locator("[data-key-row]"), show)
    fits(page, width)

    # A new node token, shown once, has a Copy button that copies exactly the token.
    page.goto(f"{base}/publisher/gateways/edge/")
    page.get_by_role("button", name="Regenerate the primary token…").click()
    # The Copy button works once the new page's script has run: wait for its load, as a person
    # would see the page before clicking (CI clicked before the handler was attached).
    with page.expect_navigation():
        page.get_by_role("button", name="Regenerate the primary token").click()
    token = page.locator("#node-token").inner_text().strip()
    assert re.fullmatch(r"\S{40,}", token)
    page.get_by_role("button", name="Copy token").click()
    copy = page.locator("button[data-copy-from=node-token]")  # its name changes: found by target
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    expect(copy).to_have_text("Copy token", timeout=5_000)
    fits(page, width)

    # Django admin: Portico's colours, and the whole subscription list on screen at 1280 px.
    page.goto(f"{base}/admin/apis/subscription/")
    assert style(page.locator("#header"), "backgroundColor") == INK
    assert style(page.locator("#result_list tbody th a").first, "color") == BRAND
    if width >= 1280:
        fits(page, width)
        results = page.locator("#changelist-form .results")
        overflow = results.evaluate("e => e.scrollWidth - e.clientWidth")
        assert overflow <= 0, f"the list scrolls {overflow} px sideways in its box"
        last = page.locator("#result_list thead th").last.bounding_box()
        box = results.bounding_box()
        assert last["x"] + last["width"] <= box["x"] + box["width"] + 0.5
        assert last["x"] + last["width"] <= width
        expect(page.locator("#result_list tbody tr").first).to_contain_text("Dana's app")

    # The admin's own once-only token page has a Copy button as well.
    page.goto(f"{base}/admin/apis/gateway/")
    page.locator("tr", has_text="edge").locator("input[type=checkbox]").check()
    page.locator("select[name=action]").select_option("regenerate_secondary_token")
    with page.expect_navigation():
        page.get_by_role("button", name="Go").click()
    token = page.locator("span[id^=node-token] code").inner_text().strip()
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("button[data-copy-from^=node-token]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.context.close()
