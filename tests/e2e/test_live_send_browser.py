"""Issue 25 item 6 in a real browser at 390 and 1280 px with real gateway connections: "Send
message" on a row of the Live tab reaches that client, and the broadcast form asks first with
the number of connections it matches (by tag), then reaches them. Connection tokens are created
on the API's page (shown once) and revoked after a confirmation."""

import re

import pytest

from apis import services
from tests.support.browser import WIDTHS, make_user, open_page, overlaps, sign_in
from tests.support.held import HeldConnection
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAGGING = """<policies><inbound><base/>
<set-connection-tag name="room" value='@(context.Request.Headers.GetValueOrDefault("X-Room", "lobby"))' />
</inbound></policies>"""  # noqa: E501


def listed(user, api_id: int, count: int) -> None:
    from apis.telemetry.live_selectors import live_connections

    assert wait_for(lambda: live_connections(user, api_id=api_id).count() == count, timeout=10)


@pytest.mark.parametrize("width", WIDTHS)
def test_send_and_broadcast_from_the_live_tab(gateway, catalog, browser, width):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    services.update_api(api=catalog.api, policy_xml=TAGGING)
    serve_current_catalog(gateway)
    url = f"{gateway.ws_url}/echo?subscription-key={catalog.key}"
    lobby = [HeldConnection(url).open() for _ in range(2)]  # no X-Room header: "lobby"
    listed(boss, catalog.api.pk, 2)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    live = f"{gateway.http_url}/publisher/apis/{catalog.api.name}/live/"
    page.goto(live)
    rows = page.locator("#live tr[data-connection]")
    assert rows.count() == 2
    first = rows.first
    assert "room=lobby" in first.locator("td[data-label=Tags]").inner_text()
    send, close = (
        first.get_by_role("link", name=re.compile("^Send a message")),
        first.get_by_role("link", name=re.compile("^Close connection")),
    )
    assert not overlaps(send.bounding_box(), close.bounding_box())

    send.click()
    page.get_by_label("Message").fill("hello one")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(lambda u: u.endswith("/live/"))
    assert "Delivered" in page.locator(".messages").inner_text()
    assert wait_for(lambda: sum(len(h.received) for h in lobby) == 1, timeout=5)
    got = [held for held in lobby if held.received]
    assert len(got) == 1 and got[0].received == ["hello one"]

    # Broadcast: a tag that matches nobody is shown as 0 (and cannot be sent) ...
    page.get_by_label("Tag (optional)").fill("room=kitchen")
    page.get_by_label("Message", exact=True).fill("to the kitchen")
    page.get_by_role("button", name="Review the broadcast…").click()
    assert page.locator("[data-role=matched] strong").inner_text() == "0"
    assert page.get_by_role("button", name=re.compile("^Send to 0")).is_disabled()
    # ... the lobby matches both, the confirmation says so, and sending reaches both.
    page.goto(live)
    page.get_by_label("Tag (optional)").fill("room=lobby")
    page.get_by_label("Message", exact=True).fill("hello lobby")
    page.get_by_role("button", name="Review the broadcast…").click()
    assert page.locator("[data-role=matched] strong").inner_text() == "2"
    confirm = page.get_by_role("button", name="Send to 2 connections")
    box = confirm.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    confirm.click()
    page.wait_for_url(lambda u: u.endswith("/live/"))
    assert "delivered to 2 of 2" in page.locator(".messages").inner_text()
    assert got[0].wait_received(2) == ["hello one", "hello lobby"]
    other = next(held for held in lobby if held is not got[0])
    assert other.wait_received(1) == ["hello lobby"]
    for held in lobby:
        held.close()
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_connection_tokens_on_the_apis_page(gateway, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/apis/{catalog.api.name}/live/")
    page.get_by_role("link", name="Connection tokens").click()
    page.get_by_label("Token name").fill("chat backend")
    page.get_by_role("button", name="Create a token").click()
    secret = page.locator("#api-token").inner_text().strip()
    assert secret.startswith("pat_")
    page.goto(page.url)  # shown once: a later visit shows its prefix only
    assert page.locator("#api-token").count() == 0 and secret not in page.content()
    row = page.locator("tr[data-token]")
    assert "chat backend" in row.inner_text() and secret[:12] in row.inner_text()
    row.get_by_role("link", name="Revoke token chat backend").click()
    page.get_by_role("button", name="Revoke the token").click()
    assert "revoked" in page.locator("tr[data-token]").inner_text()
    page.context.close()
