"""Issue 29 item 7 in a real browser at 390 and 1280 px: leaving the policy editor with unsaved
changes asks first, and a form sent back with errors shows a summary and focuses the first one."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import make_user, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_signed_in(browser, gateway, width: int):
    make_user("boss", is_staff=True, is_superuser=True)
    page = open_page(browser, width, height=844)
    sign_in(page, gateway.http_url, "boss")
    return page


@pytest.mark.parametrize("width", [390, 1280])
def test_leaving_the_policy_editor_with_unsaved_changes_asks_first(
    gateway, catalog, browser, width
):
    page = open_signed_in(browser, gateway, width)
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    url = f"{gateway.http_url}/publisher/apis/echo/policy/"
    page.goto(url)
    editor = page.get_by_label("Policy document")
    editor.click()
    page.keyboard.type("<!-- draft -->")
    page.evaluate("document.querySelector('.brand').click()")
    expect(page.get_by_label("Policy document")).to_have_value("<!-- draft -->", timeout=5_000)
    assert dialogs == ["beforeunload"] and page.url == url

    editor.fill("")  # an empty document is a valid one to save
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy saved.")
    page.evaluate("document.querySelector('.brand').click()")
    page.wait_for_url(lambda u: "/policy/" not in u)
    assert dialogs == ["beforeunload"]  # saved: no question


@pytest.mark.parametrize("width", [390, 1280])
def test_a_form_with_errors_shows_a_summary_and_focuses_the_first(gateway, browser, width):
    page = open_signed_in(browser, gateway, width)
    page.goto(f"{gateway.http_url}/publisher/apis/add/")
    page.get_by_role("button", name="Create").click()
    summary = page.locator("form [data-role=error-summary]")
    expect(summary).to_be_visible()
    assert summary.get_attribute("role") == "alert"
    invalid = page.locator('form [aria-invalid="true"]')
    fields = invalid.count()
    assert fields >= 1
    links = summary.get_by_role("link")
    assert links.count() == len(set(invalid.evaluate_all("nodes => nodes.map(n => n.name)")))
    first_id = invalid.first.get_attribute("id")
    assert page.evaluate("document.activeElement.id") == first_id
    box = invalid.first.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844, box  # on screen, not below the fold
    links.last.click()
    last_name = invalid.evaluate_all("nodes => nodes[nodes.length - 1].name")
    assert page.evaluate("document.activeElement.name") == last_name
