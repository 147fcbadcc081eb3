"""Issue 29 item 3 in a real browser at 390 and 1280 px: the Logs tab's filter bar (labels on
one line above controls of one height, nothing overlapping, Filter and Export CSV side by side)
and its table (every column readable on a phone, as one card per connection, nothing scrolling
sideways). Boxes are read from the page, not judged by eye."""

import re

import pytest

from apis.telemetry import services as telemetry_services
from tests.support.browser import WIDTHS, fits, make_user, open_page, overlaps, screenshot, sign_in
from tests.support.telemetry import connection_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LABELS = ["Time range", "State", "Subscription", "Close code", "Search"]
COLUMNS = ["Started (UTC)", "Outcome", "Subscription", "Client", "Close", "Up / down"]
COLUMNS += ["Duration", "Correlation id"]


def store_logs(api) -> None:
    refused = {"state": "refused", "status": 401, "reason": "missing subscription key"}
    refused |= {"close_code": None, "closed_by": "", "duration_ms": None, "subscription_id": None}
    records = [
        # a long name makes a wide select (it once spread under the close-code input)
        connection_record(api, 1, subscription_name="Northwind mobile app (production)"),
        connection_record(api, 2, **refused, subscription_name="", messages_up=0, bytes_up=0),
        connection_record(
            api,
            3,
            subscription_id=6,
            close_code=4001,
            closed_by="backend",
            close_reason="shutting down for a bit",
        ),
    ]
    telemetry_services.write_batch(records=records)


def label_text_box(label) -> dict:
    """The box of a label's own words (not of a control it may wrap)."""
    return label.evaluate(
        """label => {
            const words = [...label.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
            const range = document.createRange();
            range.selectNodeContents(words);
            const r = range.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        }"""
    )


def check_filter_bar(page, width: int) -> None:
    form = page.get_by_role("form", name="Filter connection logs")
    controls = [form.get_by_label(name).bounding_box() for name in LABELS]
    buttons = [
        form.get_by_role("button", name="Filter").bounding_box(),
        form.get_by_role("link", name="Export CSV").bounding_box(),
    ]
    boxes = controls + buttons
    for i, a in enumerate(boxes):  # no control covers another, none sticks out
        assert a["x"] >= 0 and a["x"] + a["width"] <= width, a
        clash = [b for b in boxes[i + 1 :] if overlaps(a, b, slack=0.5)]
        assert not clash, (a, clash)
    filter_button, export = buttons
    assert abs(filter_button["y"] - export["y"]) < 1, buttons  # side by side, never stacked
    assert abs(filter_button["height"] - export["height"]) < 1
    labels = [
        label_text_box(form.locator("label").filter(has_text=re.compile(f"^\\s*{name}")))
        for name in LABELS
    ]
    for i, (label, control) in enumerate(zip(labels, controls, strict=True)):
        # each label sits right above its own control, at its left edge, and covers nothing
        assert abs(label["x"] - control["x"]) < 1, (LABELS[i], label, control)
        assert label["y"] + label["height"] <= control["y"], (LABELS[i], label, control)
        assert not [b for b in boxes + labels[i + 1 :] if overlaps(label, b, slack=0.5)], LABELS[i]
    rows: dict[int, list[int]] = {}
    for i, control in enumerate(controls):
        rows.setdefault(round(control["y"]), []).append(i)
    for members in rows.values():  # one line of labels per row, and controls of one height
        tops = [labels[i]["y"] for i in members]
        assert max(tops) - min(tops) < 1, [(LABELS[i], labels[i]) for i in members]
        assert len({round(controls[i]["height"]) for i in members}) == 1
    if width >= 1280:  # the whole bar is one row: five filters, then the two buttons
        assert len(rows) == 1
        control = controls[0]
        assert abs(filter_button["y"] - control["y"]) < 1
        assert abs(filter_button["height"] - control["height"]) < 1


def check_table(page, width: int) -> None:
    table = page.locator("#connection-logs")
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), "the table scrolls sideways"
    rows = table.locator("tr[data-correlation]")
    assert rows.count() == 3
    for row in rows.all():
        cells = row.locator("td")
        assert cells.count() == len(COLUMNS)
        line = cells.first.evaluate("td => parseFloat(getComputedStyle(td).lineHeight)")
        for cell, column in zip(cells.all(), COLUMNS, strict=True):
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (column, box)
            assert cell.inner_text().strip(), f"empty {column} cell"
            # no tall, mostly empty cells: at most its column's name and three lines of value
            assert box["height"] <= 4 * line + 12, (column, box, line)
            if width < 768:  # a card: each value under its column's name
                name = cell.evaluate("td => getComputedStyle(td, '::before').content")
                assert name == f'"{column}"', (column, name)
        if width >= 1280:  # one line of columns per connection, under a visible header
            tops = {round(cell.bounding_box()["y"]) for cell in cells.all()}
            assert len(tops) == 1
    if width >= 1280:
        assert table.locator("thead th").all_inner_texts() == COLUMNS


@pytest.mark.parametrize("width", WIDTHS)
def test_logs_filter_bar_and_table_at_phone_and_desktop_width(gateway, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    api = catalog.api
    store_logs(api)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/apis/{api.name}/logs/")
    fits(page, width)
    # Unfiltered, the page lists the last day, and says so.
    assert page.locator("#id_since option:checked").inner_text() == "Last day"
    check_filter_bar(page, width)
    check_table(page, width)
    screenshot(page, f"api-logs-{width}")

    # A close code out of range is named under its field; the other filters still apply.
    page.goto(f"{gateway.http_url}/publisher/apis/{api.name}/logs/?state=refused&close_code=99999")
    error = page.locator(".log-filter-close_code .errorlist")
    assert "less than or equal to 4999" in error.inner_text()
    screenshot(page, f"api-logs-error-{width}")
    check_filter_bar(page, width)  # still lined up with a message under one field
    assert page.locator("#connection-logs tr[data-correlation]").count() == 1
    assert page.locator("#id_since option:checked").inner_text() == "Last day"
    fits(page, width)
    page.context.close()
