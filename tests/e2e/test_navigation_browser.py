"""Issue 29 item 5 in a real browser at phone (390 px) and desktop (1280 px) widths: staff land
on the publisher home, the header switches areas, the publisher's own navigation marks where you
are (aria-current and a visible style), and nested pages show breadcrumbs that lead back."""

import pytest
from playwright.sync_api import expect

from apis import services
from apis.models import Gateway
from tests.support.browser import WIDTHS, make_user, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ACCENT = "rgb(36, 87, 197)"  # --accent in static/css/portico.css
TRANSPARENT = "rgba(0, 0, 0, 0)"


def style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def within(box: dict, width: int) -> bool:
    return box["x"] >= 0 and box["x"] + box["width"] <= width


def open_menu(page, width: int):
    """The header's Main navigation, opening the collapsed menu first on a phone."""
    if width < 768:
        page.get_by_role("button", name="Menu").click()
    return page.get_by_role("navigation", name="Main")


def check_breadcrumbs(page, width: int, trail: list[str]) -> None:
    """The trail is shown above the heading, each step but the last a link, nothing cut off."""
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_be_visible()
    items = crumbs.locator("li")
    expect(items).to_have_text(trail)
    expect(crumbs.get_by_role("link")).to_have_count(len(trail) - 1)
    expect(items.last.locator("[aria-current=page]")).to_have_text(trail[-1])
    for i in range(items.count()):
        assert within(items.nth(i).bounding_box(), width), trail[i]
    heading = page.get_by_role("heading", level=1).bounding_box()
    box = crumbs.bounding_box()
    assert box["y"] + box["height"] <= heading["y"], (box, heading)


@pytest.mark.parametrize("width", WIDTHS)
def test_publisher_navigation_at_phone_and_desktop_width(gateway, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    make_user("dana", email="dana@example.com")
    services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
    services.create_named_value(name="region", value="eu")
    services.create_policy_fragment(name="common", xml="<fragment></fragment>")
    base = gateway.http_url

    # A developer still lands on the developer home.
    page = open_page(browser, width)
    sign_in(page, base, "dana")
    assert page.url == f"{base}/"
    page.context.close()

    # An administrator lands on the publisher home.
    page = open_page(browser, width)
    sign_in(page, base, "boss")
    assert page.url == f"{base}/publisher/"
    expect(page.get_by_role("heading", name="Publisher", level=1)).to_be_visible()

    # The header switches areas: no portal APIs/Products above the publisher's; Publisher is
    # marked as the current area and looks it.
    main = open_menu(page, width)
    expect(main.get_by_role("link")).to_have_text(["Developer portal", "Publisher", "Admin"])
    area = main.get_by_role("link", name="Publisher", exact=True)
    expect(area).to_have_attribute("aria-current", "true")
    assert "underline" in style(area, "textDecorationLine")
    assert "underline" not in style(main.get_by_role("link", name="Admin"), "textDecorationLine")

    # The publisher's navigation marks the current section, visibly.
    publisher_nav = page.get_by_role("navigation", name="Publisher")
    for label, heading in [
        ("APIs", "APIs"),
        ("Products", "Products"),
        ("Subscriptions", "Subscriptions"),
        ("Gateways", "Gateways"),
        ("Named values", "Named values"),
        ("Fragments", "Policy fragments"),
        ("Overview", "Publisher"),
    ]:
        publisher_nav.get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        current = publisher_nav.locator("[aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_have_text(label)
        assert style(current, "color") == ACCENT
        assert style(current, "borderBottomColor") == ACCENT
        other = publisher_nav.locator("a:not([aria-current])").first
        assert style(other, "color") != ACCENT
        assert style(other, "borderBottomColor") == TRANSPARENT
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    # Breadcrumbs on nested pages, and they lead back.
    page.goto(f"{base}/publisher/apis/echo/policy/")
    check_breadcrumbs(page, width, ["APIs", "Echo", "Policies"])
    tabs = page.get_by_role("navigation", name="Sections")
    expect(tabs.get_by_role("link", name="Policies")).to_have_attribute("aria-current", "page")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Echo").click()
    check_breadcrumbs(page, width, ["APIs", "Echo", "Settings"])
    for tab in ("Test", "AsyncAPI", "Metrics"):
        tabs.get_by_role("link", name=tab).click()
        check_breadcrumbs(page, width, ["APIs", "Echo", tab])
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="APIs").click()
    expect(page.get_by_role("heading", name="APIs", level=1)).to_be_visible()

    page.goto(f"{base}/publisher/products/starter/subscriptions/")
    check_breadcrumbs(page, width, ["Products", "Starter", "Subscriptions"])
    page.goto(f"{base}/publisher/products/starter/policy/")
    check_breadcrumbs(page, width, ["Products", "Starter", "Policies"])
    page.goto(f"{base}/publisher/gateways/edge/")
    check_breadcrumbs(page, width, ["Gateways", "edge"])
    page.goto(f"{base}/publisher/named-values/region/")
    check_breadcrumbs(page, width, ["Named values", "region"])
    page.goto(f"{base}/publisher/fragments/common/")
    check_breadcrumbs(page, width, ["Fragments", "common"])
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Fragments").click()
    expect(page.get_by_role("heading", name="Policy fragments", level=1)).to_be_visible()

    # An explicit ?next= still wins over the publisher home.
    open_menu(page, width)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "boss", then="/products/")
    page.wait_for_url(f"{base}/products/")
    page.context.close()
