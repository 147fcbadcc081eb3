"""Issue 29 item 11 in a real browser: phone tap targets of 44 px, and row actions that say
what they do and stand apart (sizes and overlap read from element boxes)."""

import pytest

from apis import services
from tests.support.browser import make_user, open_page, overlaps, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TAP = 44


@pytest.mark.parametrize("width", [390, 1280])
def test_row_actions_say_what_they_do_and_phone_targets_are_44_px(gateway, catalog, browser, width):
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
    sign_in(page, base, "boss")
    page.goto(f"{base}/publisher/subscriptions/")

    # "Cancel" alone reads like dismissing a dialog: the action names what it cancels.
    row = page.locator(f"tr[data-subscription='{active.pk}']")
    cancel = row.locator(".row-actions a", has_text="Cancel")
    assert cancel.inner_text().strip() == "Cancel subscription"
    # Approve and Reject never touch, and the destructive one stands apart.
    pending = page.locator(f"tr[data-subscription='{waiting.pk}'] .row-actions a")
    boxes = [pending.nth(i).bounding_box() for i in range(pending.count())]
    assert len(boxes) >= 2
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlaps(a, b), (a, b)
    approve = page.locator(
        f"tr[data-subscription='{waiting.pk}'] .row-actions a", has_text="Approve"
    )
    reject = page.locator(f"tr[data-subscription='{waiting.pk}'] .row-actions a", has_text="Reject")
    a, r = approve.bounding_box(), reject.bounding_box()
    gap = (
        r["x"] - (a["x"] + a["width"])
        if abs(a["y"] - r["y"]) < 1
        else r["y"] - (a["y"] + a["height"])
    )
    assert gap >= 12, f"Approve and Reject are {gap} px apart"

    if width < 768:
        targets = [
            row.get_by_role("button", name="Show the primary key of Dana's app"),
            row.get_by_role("button", name="Copy the primary key of Dana's app"),
            row.get_by_role("link", name="Regenerate the primary key of Dana's app"),
            row.get_by_role("link", name="Live connections of Dana's app"),
            cancel,
            approve,
            reject,
        ]
        for target in targets:
            box = target.bounding_box()
            assert box["height"] >= TAP and box["width"] >= TAP, (target, box)
        page.goto(f"{base}/publisher/apis/add/")
        checkbox = page.get_by_role("checkbox", name="managed")
        box = checkbox.bounding_box()
        assert box["width"] >= 20 and box["height"] >= 20, box
        label = checkbox.locator("xpath=ancestor::label[1]").bounding_box()
        assert label["height"] >= TAP, label
    page.context.close()
