"""Issue 13 in a real browser at phone (390 px) and desktop (1280 px) widths.

Each page load checks several things: no sideways scroll, the collapsing menu, ask-first
subscription actions with a reason, audited key reads and regeneration, adding a
subscription, the All APIs policy page, and both test consoles (any key, ws:// first,
coloured state, Ctrl+Enter, log order, no key in the log). Screenshots of the main pages at
both widths go to artifacts/screenshots/ (git-ignored) for a reviewer.
"""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from apis import services
from apis.models import Subscription
from tests.support.browser import WIDTHS, fits, make_user, open_page, screenshot, sign_in
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def menu_link(page, width: int, name: str):
    """A link of the top menu, opening the collapsed menu first on a phone."""
    toggle = page.get_by_role("button", name="Menu")
    menu = page.get_by_role("navigation", name="Main")
    if width < 768:
        expect(toggle).to_be_visible()
        expect(menu).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    else:
        expect(toggle).to_be_hidden()
    link = menu.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    return link


def console_checks(page, key: str) -> None:
    """Connected and Disconnected look different, Ctrl+Enter sends, the log order toggles,
    and no line of the log shows the key."""
    console = page.locator("[data-ws-console]")
    status = console.locator("[data-role=status]")
    assert console.locator("select[data-role=url]").input_value().startswith("ws://")
    idle_colour = status.evaluate("e => getComputedStyle(e).backgroundColor")
    console.get_by_role("button", name="Connect", exact=True).click()
    expect(status).to_have_text("Connected", timeout=20_000)
    assert status.evaluate("e => getComputedStyle(e).backgroundColor") != idle_colour
    message = console.get_by_label("Message")
    message.fill("first")
    message.press("Control+Enter")
    log = console.locator("[data-role=log]")
    expect(log.locator("li[data-kind=Received]")).to_have_count(1)
    message.fill("second")
    message.press("Control+Enter")
    expect(log.locator("li[data-kind=Received]")).to_have_count(2)
    received = log.locator("li[data-kind=Received] code")
    assert received.all_inner_texts() == ["second", "first"]  # newest first by default
    console.get_by_label("Newest first").uncheck()
    assert received.all_inner_texts() == ["first", "second"]
    text = log.inner_text()
    assert key not in text and "ticket=•••" in text
    console.get_by_role("button", name="Disconnect").click()
    expect(status).to_have_text("Disconnected")


@pytest.mark.parametrize("width", WIDTHS)
def test_publisher_pages_at_phone_and_desktop_width(gateway, backend, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    dev = make_user("dana", email="dana@example.com")
    active = services.create_subscription(
        display_name="Dana's app", owner=dev, product=catalog.product
    )
    waiting = services.create_subscription(
        display_name="Dana's test", owner=dev, product=catalog.product, state="submitted"
    )
    page = open_page(browser, width)
    base = gateway.http_url
    sign_in(page, gateway.http_url, "boss")

    # Overview: the published product visible to nobody is called out; the menu collapses.
    page.goto(f"{base}/publisher/")
    fits(page, width)
    expect(page.locator("[data-role=config-warnings]")).to_contain_text("visible to no group")
    expect(menu_link(page, width, "Publisher")).to_have_attribute("href", "/publisher/")

    page.goto(f"{base}/publisher/apis/")
    fits(page, width)
    screenshot(page, f"pages-publisher-api-list-{width}")

    page.get_by_role("link", name="Add WebSocket API").click()
    fits(page, width)
    expect(page.get_by_role("checkbox", name="managed")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Starter")).not_to_be_checked()
    screenshot(page, f"pages-publisher-add-api-{width}")

    page.goto(f"{base}/publisher/apis/echo/")
    fits(page, width)
    for legend in ("Connection", "Subscription", "Limits"):
        expect(page.locator("legend", has_text=legend)).to_be_visible()

    # Subscriptions: the built-in one has no state actions; Cancel asks first with a reason.
    page.goto(f"{base}/publisher/apis/echo/test/")  # creates the built-in subscription
    page.goto(f"{base}/publisher/subscriptions/")
    fits(page, width)
    screenshot(page, f"pages-publisher-subscriptions-{width}")
    builtin = Subscription.objects.get(is_builtin_all_access=True)
    builtin_row = page.locator(f"tr[data-subscription='{builtin.pk}']")
    expect(builtin_row.get_by_role("link", name=re.compile("^Cancel"))).to_have_count(0)
    expect(builtin_row.locator(".row-actions")).to_have_text("built in")
    waiting_row = page.locator(f"tr[data-subscription='{waiting.pk}']")
    expect(waiting_row.get_by_role("link", name="Reject Dana's test")).to_have_class(
        re.compile("danger")
    )

    row = page.locator(f"tr[data-subscription='{active.pk}']")
    primary = row.locator("[data-key-row=primary] .secret")
    assert active.primary_key not in primary.inner_text()
    row.get_by_role("button", name="Show the primary key of Dana's app").click()
    expect(primary).to_have_text(active.primary_key)
    assert gateway.logged(f"subscription keys read: subscription={active.pk} ")
    assert active.primary_key not in gateway.output()

    row.get_by_role("link", name="Regenerate the secondary key of Dana's app").click()
    fits(page, width)
    page.get_by_role("button", name="Regenerate the secondary key").click()
    expect(page.locator(".messages")).to_contain_text("was regenerated")
    old_secondary = active.secondary_key
    active.refresh_from_db()
    assert active.secondary_key != old_secondary

    row.get_by_role("link", name="Cancel subscription Dana's app").click()
    expect(page.get_by_role("heading", name="Cancel Dana's app?")).to_be_visible()
    fits(page, width)
    active.refresh_from_db()
    assert active.state == "active"  # asking changed nothing
    page.get_by_label("Reason (optional)").fill("Replaced by the new plan")
    page.get_by_role("button", name="Cancel the subscription").click()
    expect(page.locator(".messages")).to_contain_text("Dana's app is now cancelled.")
    active.refresh_from_db()
    assert (active.state, active.state_comment) == ("cancelled", "Replaced by the new plan")

    page.get_by_role("link", name="Add subscription").click()
    fits(page, width)
    page.get_by_label("Display name").fill("Partner feed")
    page.get_by_label("Owner").select_option(label="dana")
    page.get_by_label("Which API").select_option(label="Echo")
    page.get_by_role("radio", name="API", exact=True).check()
    page.get_by_label("State").select_option("submitted")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".messages")).to_contain_text("Added the subscription Partner feed")
    added = Subscription.objects.get(display_name="Partner feed")
    assert (added.owner, added.scope, added.api, added.state) == (
        dev, "api", catalog.api, "submitted"
    )  # fmt: skip

    # All APIs policy: the same editor, snippets and line-numbered errors.
    page.goto(f"{base}/publisher/apis/")
    page.get_by_role("link", name="All APIs policy").click()
    fits(page, width)
    page.get_by_label("Insert a policy").select_option(label="check-header")
    page.get_by_role("button", name="Insert at cursor").click()
    editor = page.get_by_label("Policy document")
    document = editor.input_value()
    assert "<base />" not in document and '<check-header name="X-Client"' in document
    editor.fill(document.replace('failed-check-httpcode="401"', 'failed-check-httpcode="x"'))
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".policy-error")).to_contain_text("line 3")
    expect(page.locator(".gutter .error-line")).to_have_text("3")
    fits(page, width)
    editor.fill("")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy saved.")

    # The test console with another subscription, by a ticket minted on use (and audited).
    page.goto(f"{base}/publisher/apis/echo/test/")
    fits(page, width)
    serve_current_catalog(gateway)
    page.locator("[data-ws-console] select[data-role=key]").select_option(
        label="Test subscription · standalone"
    )
    console_checks(page, catalog.key)
    assert gateway.logged(f"connect ticket minted: subscription={catalog.subscription.pk} ")
    fits(page, width)
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_developer_pages_at_phone_and_desktop_width(gateway, backend, catalog, browser, width):
    developers = Group.objects.get_or_create(name="Developers")[0]
    services.update_product(product=catalog.product, groups=[developers])
    dev = make_user("devon", email="devon@example.com")
    dev.groups.add(developers)
    old = services.create_subscription(display_name="Old", owner=dev, product=catalog.product)
    services.cancel_subscription(subscription=old, comment="Replaced by Main")
    services.create_subscription(
        display_name="Waiting", owner=dev, product=catalog.product, state="submitted"
    )
    main = services.create_subscription(display_name="Main", owner=dev, product=catalog.product)
    serve_current_catalog(gateway)
    page = open_page(browser, width)
    base = gateway.http_url

    page.goto(f"{base}/accounts/signup/")
    fits(page, width)
    page.get_by_role("button", name="Sign up").click()
    username = page.get_by_label("Username")
    expect(username).to_have_attribute("aria-invalid", "true")
    described = username.get_attribute("aria-describedby").split()
    assert "id_username_error" in described
    expect(page.locator("#id_username_error")).to_contain_text("This field is required")

    sign_in(page, gateway.http_url, "devon")
    page.goto(f"{base}/")
    menu_link(page, width, "My subscriptions").click()
    fits(page, width)
    screenshot(page, f"pages-developer-subscriptions-{width}")
    names = page.locator("section.subscription h3").all_inner_texts()
    assert names == ["Main", "Waiting", "Old"]
    waiting_card = page.locator("section.subscription", has_text="Waiting")
    expect(waiting_card.locator("[data-key-row]")).to_have_count(0)
    expect(waiting_card.get_by_role("button", name=re.compile("^(Show|Copy)"))).to_have_count(0)
    expect(page.locator("section.subscription", has_text="Old")).to_contain_text("Replaced by Main")
    main_card = page.locator(f"#subscription-{main.pk}")
    main_card.get_by_role("link", name="Usage of Main").click()
    expect(page.get_by_role("heading", name="Usage of Main")).to_be_visible()
    fits(page, width)
    menu_link(page, width, "Usage").click()
    expect(page.get_by_role("link", name="Main")).to_be_visible()
    fits(page, width)

    # The API page links the usage; its console takes a pasted key and never logs it.
    page.goto(f"{base}/apis/echo/")
    fits(page, width)
    expect(page.locator("[data-role=usage-links]").get_by_role("link", name="Main")).to_be_visible()
    page.locator("[data-ws-console] select[data-role=key]").select_option(label="Paste a key…")
    page.get_by_label("Key to use").fill(main.secondary_key)
    console_checks(page, main.secondary_key)
    fits(page, width)
    screenshot(page, f"pages-developer-api-console-{width}")
    page.context.close()


def test_policy_editor_highlights_completes_and_says_what_the_effective_policy_shows(
    gateway, catalog, page
):
    make_user("boss", is_staff=True, is_superuser=True)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/apis/echo/policy/")
    expect(page.locator("[data-role=effective-source]")).to_contain_text("last saved")
    note = page.locator("[data-role=unsaved-note]")
    expect(note).to_be_hidden()

    editor = page.get_by_label("Policy document")
    editor.press_sequentially("<policies><inbound><chec")
    completions = page.get_by_role("listbox", name="Completions")
    expect(completions.get_by_role("option")).to_have_text(["check-header"])
    editor.press("Tab")
    editor.press_sequentially(" fail")
    expect(completions.get_by_role("option").first).to_have_text("failed-check-error-message")
    completions.get_by_role("option", name="failed-check-httpcode").click()
    editor.press_sequentially("401")
    assert editor.input_value() == '<policies><inbound><check-header failed-check-httpcode="401"'
    editor.press("End")  # past the closing quote
    editor.press_sequentially(" na")
    expect(completions.get_by_role("option")).to_have_text(["name"])
    editor.press("Escape")
    expect(completions).to_be_hidden()

    highlight = page.locator("[data-role=highlight]")
    expect(highlight.locator(".x-tag", has_text="check-header")).to_have_count(1)
    expect(highlight.locator(".x-attr", has_text="failed-check-httpcode")).to_have_count(1)
    expect(highlight.locator(".x-value")).to_have_text(['"401"'])
    expect(note).to_be_visible()
    screenshot(page, "pages-policy-editor-completion")


SWEEP = [
    "/",
    "/apis/",
    "/apis/echo/",
    "/products/",
    "/products/starter/",
    "/subscriptions/",
    "/usage/",
    "/profile/",
    "/tokens/",
    "/publisher/",
    "/publisher/apis/echo/policy/",
    "/publisher/apis/echo/metrics/",
    "/publisher/apis/echo/logs/",
    "/publisher/apis/echo/asyncapi/",
    "/publisher/apis/echo/delete/",
    "/publisher/apis/import/",
    "/publisher/products/",
    "/publisher/products/add/",
    "/publisher/products/starter/",
    "/publisher/products/starter/policy/",
    "/publisher/products/starter/subscriptions/",
    "/publisher/gateways/",
    "/publisher/gateways/managed/",
    "/publisher/policy/",
    "/publisher/subscriptions/add/",
]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(gateway, catalog, browser, width):
    """Every other page of both areas, signed in as a superuser (who sees them all)."""
    make_user("boss", is_staff=True, is_superuser=True)
    page = open_page(browser, width)
    page.goto(f"{gateway.http_url}/accounts/login/")
    fits(page, width)
    sign_in(page, gateway.http_url, "boss")
    for path in SWEEP:
        page.goto(f"{gateway.http_url}{path}")
        fits(page, width)
    page.context.close()
