"""Issue 29 item 6 in a real browser at phone and desktop width: a secret named value is typed
masked, is never written back into the page after a validation error, and its Secret checkbox
sits beside its label."""

import pytest
from playwright.sync_api import expect

from apis.models import NamedValue
from tests.support.browser import make_user, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "s3cret-value-never-echoed"


def admin_page(browser, gateway, width: int):
    """A page signed in as a new superuser "boss"."""
    make_user("boss", is_staff=True, is_superuser=True)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    return page


@pytest.mark.parametrize("width", [390, 1280])
def test_a_secret_value_is_masked_never_echoed_and_its_checkbox_sits_by_its_label(
    gateway, browser, width
):
    page = admin_page(browser, gateway, width)
    page.goto(f"{gateway.http_url}/publisher/named-values/add/")
    value = page.locator("input[name=value]")
    secret = page.locator("input[type=checkbox][name=secret]")
    assert value.get_attribute("type") == "text"

    # Ticking Secret masks the field before anything is typed into it.
    secret.check()
    expect(value).to_have_attribute("type", "password")
    secret.uncheck()
    expect(value).to_have_attribute("type", "text")
    secret.check()

    # The checkbox is on the same row as its label, just before it, and neither covers the other.
    box = secret.bounding_box()
    label = page.locator("label[for=id_secret]").bounding_box()
    assert box["x"] + box["width"] <= label["x"] <= box["x"] + box["width"] + 24, (box, label)
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 8, (
        box,
        label,
    )

    # A validation error (a bad name) sends the page back: the secret is not in it.
    page.locator("input[name=name]").fill("not a valid name!")
    value.fill(SECRET)
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".field-name .errorlist")).to_be_visible()
    assert SECRET not in page.content()
    assert value.get_attribute("type") == "password" and value.input_value() == ""
    assert page.locator("input[type=checkbox][name=secret]").is_checked()

    # Corrected, it saves as a secret.
    page.locator("input[name=name]").fill("vault")
    value.fill(SECRET)
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(lambda url: "/add/" not in url)
    assert NamedValue.objects.get(name="vault").secret
