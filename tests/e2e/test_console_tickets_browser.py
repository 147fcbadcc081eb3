"""Both test consoles connect with connect tickets: no subscription key in the WebSocket URL,
the page's HTML or any request the browser makes (what DevTools would show)."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apis import services
from apis.permissions import PUBLISHERS_GROUP
from tests.support.browser import make_user, sign_in
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def connect_and_echo(page, text: str) -> None:
    console = page.locator("[data-ws-console]")
    console.get_by_role("button", name="Connect", exact=True).click()
    expect(console.locator("[data-role=status]")).to_have_text("Connected", timeout=20_000)
    console.get_by_label("Message").fill(text)
    console.get_by_role("button", name="Send", exact=True).click()
    console.locator(".log-received", has_text=text).wait_for()
    console.get_by_role("button", name="Disconnect").click()
    expect(console.locator("[data-role=status]")).to_have_text("Disconnected")


def watch(page) -> tuple[list[str], list[str]]:
    """(WebSocket URLs, every request URL and body) as the browser sees them."""
    sockets: list[str] = []
    requests: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("request", lambda r: requests.append(f"{r.url} {r.post_data or ''}"))
    return sockets, requests


def assert_no_key(page, sockets, requests, keys) -> None:
    assert sockets and all("ticket=ct1." in url for url in sockets)
    html = page.content()
    for key in keys:
        assert all(key not in url for url in sockets)
        assert all(key not in line for line in requests)
        assert key not in page.locator("[data-ws-console]").inner_html()
        assert key not in html


@pytest.mark.parametrize("who", ["developer", "publisher"])
def test_the_console_connects_with_a_ticket_and_no_key_anywhere(
    gateway, backend, catalog, page, who
):
    publisher = who == "publisher"
    user = make_user(
        "tessa", is_staff=publisher, groups=(PUBLISHERS_GROUP if publisher else "Developers",)
    )
    if who == "developer":
        developers = Group.objects.get(name="Developers")
        services.update_product(product=catalog.product, groups=[developers])
        subscription = services.create_subscription(
            display_name="Mine", owner=user, product=catalog.product
        )
        then = "/apis/echo/"
    else:
        subscription = services.ensure_publisher_console_subscription(user=user)
        then = "/publisher/apis/echo/test/"
    serve_current_catalog(gateway)
    sockets, requests = watch(page)
    sign_in(page, gateway.http_url, "tessa", then=then)
    page.locator("[data-ws-console]").wait_for()
    # No key anywhere: the developer's code samples fetch it only on "Show key" (below).
    keys = (subscription.primary_key, subscription.secondary_key, catalog.key)
    connect_and_echo(page, "first")
    connect_and_echo(page, "second")  # a fresh ticket each time: a ticket works once
    assert len({url for url in sockets}) == 2
    assert_no_key(page, sockets, requests, keys)
    console_keys = (subscription.primary_key, subscription.secondary_key)
    console = page.locator("[data-ws-console]").inner_html()
    assert all(key not in console for key in console_keys)
    assert all(key not in url for url in sockets for key in console_keys)
    assert all(key not in line for line in requests for key in console_keys)
    assert all(key not in gateway.output() for key in console_keys)


def test_the_api_page_carries_no_key_until_its_owner_clicks_show_key(
    gateway, backend, catalog, page
):
    user = make_user("kim", groups=("Developers",))
    developers = Group.objects.get(name="Developers")
    services.update_product(product=catalog.product, groups=[developers])
    mine = services.create_subscription(display_name="Mine", owner=user, product=catalog.product)
    keys = (mine.primary_key, mine.secondary_key)
    serve_current_catalog(gateway)
    sockets, requests = watch(page)
    sign_in(page, gateway.http_url, "kim", then="/apis/echo/")
    page.locator("[data-ws-console]").wait_for()
    served = page.goto(f"{gateway.http_url}/apis/echo/").text()  # the HTML as sent
    assert all(key not in served for key in keys) and "data-secret" not in served
    connect_and_echo(page, "no key in my URL")
    assert_no_key(page, sockets, requests, keys)

    samples = page.locator("section", has=page.locator("#samples-heading"))
    show = samples.get_by_role("button", name="Show key")
    show.click()
    expect(samples.locator(".secret").first).to_have_text(mine.primary_key)
    expect(samples.locator("[data-code-sample=wscat]")).to_contain_text(
        f"Ocp-Apim-Subscription-Key: {mine.primary_key}"
    )
    samples.get_by_role("button", name="Hide key").click()
    expect(samples.locator(".secret").first).to_have_text("••••••••••••")
    assert all(key not in page.content() for key in keys)  # hidden means gone from the DOM
    # Copy fills the key in the copied text only; the page keeps showing the mask.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    samples.locator("[data-code-sample=wscat]").get_by_role("button", name="Copy").click()
    expect(samples.locator("[data-code-sample=wscat] button")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"Ocp-Apim-Subscription-Key: {mine.primary_key}" in copied
    assert all(key not in page.content() for key in keys)

    # The subscriptions page, whose purpose is the keys: fetched on Show too.
    served = page.goto(f"{gateway.http_url}/subscriptions/").text()
    assert all(key not in served for key in keys) and "data-secret" not in served
    row = page.locator("[data-key-row=secondary]")
    row.get_by_role("button", name="Show the secondary key of Mine").click()
    expect(row.locator(".secret")).to_have_text(mine.secondary_key)
    assert all(key not in gateway.output() for key in keys)
