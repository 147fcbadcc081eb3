"""The gateway page's host names and certificates in a real browser at 390 and 1280 px
(issue 27 items 1 and 2): the table fits, the expiry warning is shown and overlaps nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from apis import services
from tests.support.browser import WIDTHS, fits, make_user, open_page, sign_in
from tests.support.certs import issue, make_ca

pytestmark = pytest.mark.django_db(transaction=True)

CA = make_ca("A certificate authority with a long name, for wrapping")
LONG_HOST = "a-very-long-host-name-for-the-phone-width.eu-west.gateways.example.com"
SOON = issue(
    CA,
    "a-very-long-host-name-for-the-phone-width.example.com",
    dns_names=(LONG_HOST,),
    not_after=datetime.now(UTC) + timedelta(days=9),
)
LATER = issue(CA, "api.example.com", dns_names=("api.example.com",))


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_host_names_and_expiry_on_the_gateway_page(gateway, catalog, browser, width):
    soon = services.create_certificate(name="soon-cert", pem=SOON.pem)
    later = services.create_certificate(name="later-cert", pem=LATER.pem)
    services.set_gateway_hostnames(
        gateway=catalog.gateway,
        hostnames=[
            {"hostname": LONG_HOST, "certificate": soon, "negotiate_client_certificate": True},
            {"hostname": "api.example.com", "certificate": later},
        ],
    )  # fmt: skip
    make_user("boss", is_staff=True, is_superuser=True)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/gateways/{catalog.gateway.name}/")
    section = page.locator("[data-role=hostnames]")
    section.get_by_role("heading", name="Host names and certificates").wait_for()
    fits(page, width)
    badge = section.locator("[data-role=expiry]")
    assert badge.count() == 1 and badge.is_visible()
    assert badge.inner_text().startswith("Expires in")
    soon_row = section.locator("tr[data-hostname^='a-very-long']")
    date = soon_row.locator("time")
    assert not boxes_overlap(badge.bounding_box(), date.bounding_box())
    cells = soon_row.locator("td").all()
    for first, second in zip(cells, cells[1:], strict=False):
        assert not boxes_overlap(first.bounding_box(), second.bounding_box())
    assert page.get_by_role("textbox", name="Host names").input_value().startswith("a-very-long")
    page.context.close()
