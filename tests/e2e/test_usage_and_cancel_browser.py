"""Issue 29 items 1 and 4 in a real browser at 390 and 1280 px, with real gateway connections:
the usage page's "Now:" line and its table agree and follow connections opening and closing
without a reload; the cancel confirmation says how many connections are open and that they are
closed at once with 1008, which is what then happens (boxes read from the page, not by eye)."""

import re

import pytest

from apis import services
from tests.support.browser import WIDTHS, fits, make_user, open_page, overlaps, sign_in
from tests.support.held import HeldConnection, wait_listed
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def held_for(gateway, subscription) -> HeldConnection:
    url = f"{gateway.ws_url}/echo?subscription-key={subscription.primary_key}"
    return HeldConnection(url).open()


def rows(page) -> int:
    return page.locator("#live tr[data-connection]").count()


def wait_shown(page, now: str, count: int) -> None:
    """Wait (bounded by the page's timeout) until the page, by itself, shows `count`."""
    page.wait_for_function(
        "([now, count]) => document.querySelector('#open-connections').textContent.trim()"
        " .startsWith(now) && document.querySelectorAll('#live tr[data-connection]').length"
        " === count",
        arg=[now, count],
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_usage_page_counts_what_it_lists_and_follows_both(gateway, catalog, browser, width):
    dana = make_user("dana")
    mine = services.create_subscription(display_name="Mine", owner=dana, product=catalog.product)
    serve_current_catalog(gateway)
    first = held_for(gateway, mine)
    wait_listed(dana, mine.pk, 1)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "dana")
    page.goto(f"{gateway.http_url}/usage/{mine.pk}/")
    page.evaluate("window.notReloaded = true")
    now = page.locator("#open-connections")
    assert now.inner_text().strip() == "Now: 1 connection open."
    assert rows(page) == 1
    count = page.locator("#live + p")
    assert count.inner_text().startswith("1 open now, on every gateway")
    opened = page.locator("#live td[data-label=Opened]").inner_text()
    assert re.fullmatch(r"\d+ seconds? ago", opened), opened
    fits(page, width)
    box = now.bounding_box()
    for other in ("h1", "#totals", "#live-connections"):
        assert not overlaps(box, page.locator(other).first.bounding_box()), other

    second = held_for(gateway, mine)
    wait_shown(page, "Now: 2 connections open.", 2)
    assert count.inner_text().startswith("2 open now, on every gateway")
    first.close()
    second.close()
    wait_shown(page, "Now: 0 connections open.", 0)
    assert "No open connections." in page.locator("#live").inner_text()
    assert count.inner_text().startswith("0 open now, on every gateway")
    assert page.evaluate("window.notReloaded") is True  # the page updated itself
    fits(page, width)
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_cancel_confirmation_says_how_many_close_at_once_and_they_do(
    gateway, catalog, browser, width
):
    dana = make_user("dana")
    mine = services.create_subscription(display_name="Mine", owner=dana, product=catalog.product)
    serve_current_catalog(gateway)
    held = held_for(gateway, mine)
    wait_listed(dana, mine.pk, 1)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "dana")
    page.goto(f"{gateway.http_url}/subscriptions/")
    page.get_by_role("link", name="Cancel subscription").click()
    page.wait_for_url(lambda url: url.endswith(f"/subscriptions/{mine.pk}/cancel/"))
    said = page.locator("[data-role=connections-closed]")
    assert " ".join(said.inner_text().split()) == (
        "1 connection is open now and closed at once (clients get close code 1008, "
        "“subscription cancelled”)."
    )
    assert "next connection" not in page.locator("main").inner_text()
    fits(page, width)
    button = page.get_by_role("button", name="Cancel the subscription")
    keep = page.get_by_role("link", name="Keep it")
    boxes = [said.bounding_box(), button.bounding_box(), keep.bounding_box()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlaps(a, b), (a, b)
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"]  # read before the button

    button.click()
    page.wait_for_url(lambda url: url.endswith("/subscriptions/"))
    assert held.wait_closed() == (1008, "subscription cancelled")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_publisher_suspend_confirmation_counts_open_connections(
    gateway, catalog, browser, width
):
    make_user("boss", is_staff=True, is_superuser=True)
    serve_current_catalog(gateway)
    held = [held_for(gateway, catalog.subscription) for _ in range(2)]
    wait_listed(make_user("watcher", is_staff=True, is_superuser=True), catalog.subscription.pk, 2)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(
        f"{gateway.http_url}/publisher/subscriptions/{catalog.subscription.pk}/action/"
        "?action=suspend"
    )
    said = page.locator("[data-role=connections-closed]")
    assert " ".join(said.inner_text().split()) == (
        "2 connections are open now and closed at once (clients get close code 1008, "
        "“subscription suspended”)."
    )
    fits(page, width)
    button = page.get_by_role("button", name="Suspend the subscription")
    assert not overlaps(said.bounding_box(), button.bounding_box())
    button.click()
    page.wait_for_url(lambda url: "/action/" not in url)
    assert [h.wait_closed() for h in held] == [(1008, "subscription suspended")] * 2
    page.context.close()
