"""A developer's whole journey in a real browser against the real server and gateway.

Sign up, activate from the mailed link (the console e-mail backend prints it to the server's
log), sign in, subscribe, connect in the "Try it" console, regenerate the key and see the old
one refused.
"""

import re
import time

import pytest
from django.contrib.auth.models import Group, User
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from apis import services
from apis.models import Subscription
from tests.support.browser import screenshot
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERNAME = "browserdev"
PASSWORD = "browser-horse-battery-4"


def activation_link(gateway, user: User, timeout: float = 10.0) -> str:
    """The activation link the server printed for this user (bounded wait for the log)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    pattern = re.compile(re.escape(f"{gateway.http_url}/accounts/activate/{uidb64}/") + r"\S+/")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(gateway.output())
        if found:
            return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no activation link for {user.username} in the server log")


def connect_and_echo(page, text: str) -> None:
    console = page.locator("[data-ws-console]")
    console.get_by_role("button", name="Connect", exact=True).click()
    page.wait_for_selector("[data-ws-console][data-state=connected]")
    console.get_by_label("Message").fill(text)
    console.get_by_role("button", name="Send", exact=True).click()
    console.locator(".log-received", has_text=text).wait_for()


def test_developer_signs_up_subscribes_connects_and_rotates_a_key(gateway, backend, catalog, page):
    services.update_product(
        product=catalog.product,
        groups=[Group.objects.get_or_create(name=n)[0] for n in ("Guests", "Developers")],
    )
    base = gateway.http_url

    # Sign up; the account stays inactive until the mailed link is opened.
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_email", "browserdev@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    user = User.objects.get(username=USERNAME)
    assert not user.is_active
    page.goto(activation_link(gateway, user))
    assert "Your account is active" in page.locator(".messages").inner_text()

    # Sign in, see the catalog, subscribe to Starter.
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My subscriptions").wait_for()
    assert page.get_by_role("link", name="Publisher").count() == 0
    assert page.locator("table").get_by_role("link", name="Echo").is_visible()
    screenshot(page, "developer-home")
    page.goto(f"{base}/products/starter/")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text("You are subscribed to Starter").wait_for()
    subscription = Subscription.objects.get(owner__username=USERNAME)
    old_key = subscription.primary_key
    serve_current_catalog(gateway)

    # The API page: URLs, samples, and the console connects with the new key.
    api_page = page
    api_page.goto(f"{base}/apis/echo/")
    assert api_page.locator("[data-gateway-url]").first.inner_text() == f"{gateway.ws_url}/echo"
    choice = api_page.locator("[data-ws-console] select[data-role=key]")
    assert choice.input_value() == str(subscription.pk)  # a ticket is minted on connect
    assert old_key not in api_page.locator("[data-ws-console]").inner_html()
    screenshot(api_page, "developer-api-page")
    connect_and_echo(api_page, "hello from the portal")
    screenshot(api_page, "developer-console")
    api_page.locator("[data-ws-console]").get_by_role("button", name="Disconnect").click()
    api_page.wait_for_selector("[data-ws-console][data-state=disconnected]")

    # Regenerate the primary key in the profile (another tab); this tab keeps the old key.
    profile = page.context.new_page()
    profile.goto(f"{base}/profile/")
    row = profile.locator("[data-key-row=primary]")
    assert row.locator(".secret").inner_text() != old_key
    assert old_key not in profile.content()  # fetched on Show, never in the page
    row.get_by_role("button", name=re.compile("Show the primary key")).click()
    expect(row.locator(".secret")).to_have_text(old_key)
    row.get_by_role("button", name=re.compile("Show the primary key")).click()  # hide again
    expect(row.locator(".secret")).not_to_have_text(old_key)
    screenshot(profile, "developer-profile")
    row.get_by_role("link", name=re.compile("Regenerate the primary key")).click()
    profile.get_by_role("button", name="Regenerate the primary key").click()
    profile.get_by_text("was regenerated").wait_for()
    subscription.refresh_from_db()
    new_key = subscription.primary_key
    assert new_key != old_key
    serve_current_catalog(gateway)

    # The page loaded before the rotation still works: it holds no key, only the subscription,
    # and mints a fresh ticket at each connect.
    console = api_page.locator("[data-ws-console]")
    console.locator("[data-role=log]").evaluate("e => e.replaceChildren()")
    connect_and_echo(api_page, "hello again")

    log = gateway.output()
    for secret in (PASSWORD, old_key, new_key):
        assert secret not in log
