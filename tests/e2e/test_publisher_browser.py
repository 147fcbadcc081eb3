"""A publisher, in a real browser against the real server, adds an API, guards it, tests it."""

import re

import pytest
from playwright.sync_api import expect

from apis.models import Api
from apis.permissions import PUBLISHERS_GROUP
from tests.support.browser import make_user, screenshot, sign_in
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def console_log(page):
    return page.locator("[data-ws-console] [data-role=log]")


def connect_console(page, gateway) -> None:
    serve_current_catalog(gateway)  # the API, its policy and the console key are being served
    page.get_by_role("button", name="Connect", exact=True).click()


def test_publisher_adds_guards_and_tests_a_websocket_api(gateway, backend, page):
    make_user("publisher", is_staff=True, groups=(PUBLISHERS_GROUP,))
    sign_in(page, gateway.http_url, "publisher", then="/publisher/apis/")
    expect(page.get_by_role("heading", name="APIs", exact=True)).to_be_visible()
    screenshot(page, "publisher-apis-list")

    # The add form: the name follows the display name; the preview shows the gateway URL.
    page.get_by_role("link", name="Add WebSocket API").first.click()
    page.get_by_label("Display name").press_sequentially("Browser Echo")
    expect(page.get_by_label("Name", exact=True)).to_have_value("browser-echo")
    page.get_by_label("WebSocket URL").fill("http://127.0.0.1:9/")
    page.get_by_label("URL scheme").select_option("ws")
    page.get_by_label("API URL suffix").fill("browser-echo")
    host = gateway.http_url.removeprefix("http://")
    expect(page.locator("#gateway-url-preview")).to_have_text(f"ws://{host}/browser-echo")
    page.get_by_label("URL scheme").select_option("both")
    expect(page.locator("#gateway-url-preview li")).to_have_count(2)
    page.get_by_role("button", name="Create").click()

    # The http:// URL is refused beside its field; what was typed is still there.
    field = page.locator(".field-backend_url")
    expect(field.locator(".errorlist")).to_have_text(
        "Enter a WebSocket URL starting with ws:// or wss://."
    )
    expect(page.get_by_label("Display name")).to_have_value("Browser Echo")
    assert not Api.objects.exists()
    screenshot(page, "publisher-add-api-errors")
    page.get_by_label("WebSocket URL").fill(backend.url)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=re.compile("Browser Echo"))).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Added the WebSocket API Browser Echo")
    api = Api.objects.get(name="browser-echo")
    assert api.backend_url == backend.url and [g.name for g in api.gateways.all()] == ["managed"]
    screenshot(page, "publisher-api-settings")

    # Policies (onHandshake and onMessage): a check-header policy from the snippet picker;
    # a broken copy is refused.
    page.get_by_role("link", name="Policies", exact=True).click()
    page.get_by_label("Insert a policy").select_option(label="check-header")
    page.get_by_role("button", name="Insert at cursor").click()
    editor = page.get_by_label("Policy document")
    document = editor.input_value()
    assert '<check-header name="X-Client"' in document
    expect(page.locator("[data-role=gutter]")).to_contain_text("17")
    editor.fill(document.replace('failed-check-httpcode="401"', 'failed-check-httpcode="oops"'))
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".policy-error")).to_contain_text("line 4")
    expect(page.locator(".gutter .error-line")).to_have_text("4")
    screenshot(page, "publisher-api-policy-error")
    assert Api.objects.get(pk=api.pk).policy_xml == ""
    page.get_by_label("Policy document").fill(document)
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy saved.")
    expect(page.locator("[data-role=effective]")).to_contain_text("X-Client")
    screenshot(page, "publisher-api-policy")

    # Test tab: a browser cannot send X-Client, so the gateway refuses the handshake with 401.
    page.get_by_role("link", name="Test").click()
    connect_console(page, gateway)
    expect(console_log(page)).to_contain_text("Handshake refused: 401", timeout=20_000)
    screenshot(page, "publisher-api-test-refused")

    # Without the policy the console connects and the real backend echoes.
    page.get_by_role("link", name="Policies", exact=True).click()
    page.get_by_label("Policy document").fill("")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy saved.")
    page.get_by_role("link", name="Test").click()
    connect_console(page, gateway)
    expect(page.locator("[data-ws-console] [data-role=status]")).to_have_text("Connected")
    page.get_by_label("Message", exact=True).fill("hello through portico")
    page.get_by_role("button", name="Send", exact=True).click()
    received = console_log(page).locator("li[data-kind=Received]")
    expect(received).to_contain_text("hello through portico")
    assert any(r.path.startswith("/") for r in backend.requests)
    screenshot(page, "publisher-api-test")

    subnav = page.get_by_role("navigation", name="Publisher")
    subnav.get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()
    screenshot(page, "publisher-products")
    subnav.get_by_role("link", name="Gateways").click()
    expect(page.locator("table")).to_contain_text("Browser Echo")
    screenshot(page, "publisher-gateways")
