"""Issue 29 item 8 in a real browser at 390 and 1280 px: chart axis text stays readable on a
phone, count charts get whole-number ticks, Up and Down are told apart by a legend and their
dash, a bucket's values show on hover and on keyboard focus, and the caption names the bucket
in words. Figures are stored through the real telemetry service, then read by the real page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apis.telemetry import services as telemetry_services
from tests.support.browser import WIDTHS, fits, make_user, open_page, overlaps, screenshot, sign_in
from tests.support.telemetry import usage_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COUNT_CHARTS = ["Connection attempts", "Active connections (most at once)", "Messages"]
UP, DOWN = "Up (client → backend)", "Down (backend → client)"


def span(minute) -> str:
    return f"{minute:%H:%M}–{minute + timedelta(minutes=1):%H:%M}"


def stroke(locator) -> tuple[str, str, str]:
    return locator.evaluate(
        "e => { const s = getComputedStyle(e);"
        " return [s.stroke, s.strokeDasharray, s.strokeWidth]; }"
    )


def check_axis_text(page) -> None:
    """Axis text is HTML in CSS pixels (no SVG text that shrinks with the page), >= 11 px, and
    the time labels of a chart stay inside it without overlapping one another."""
    assert page.locator("svg.chart text").count() == 0
    axis = page.locator("figure[data-chart] .chart-y span, figure[data-chart] .chart-x span")
    sizes = axis.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert len(sizes) >= 4 * 5 and min(sizes) >= 11, sizes
    for figure in page.locator("figure[data-chart]").all():
        frame = figure.bounding_box()
        times = [s.bounding_box() for s in figure.locator(".chart-x span").all()]
        assert len(times) >= 3
        for i, a in enumerate(times):
            assert frame["x"] <= a["x"] and a["x"] + a["width"] <= frame["x"] + frame["width"]
            assert not any(overlaps(a, b) for b in times[i + 1 :]), times


@pytest.mark.parametrize("width", WIDTHS)
def test_charts_are_readable_distinct_and_tell_their_values(gateway, catalog, browser, width):
    make_user("boss", is_staff=True, is_superuser=True)
    api = catalog.api
    now = timezone.now().replace(second=0, microsecond=0)
    busy, quiet = now - timedelta(minutes=10), now - timedelta(minutes=3)
    # Up equals Down in every minute (an echo): the two lines lie on top of each other.
    traffic = {"messages_up": 5, "messages_down": 5, "bytes_up": 3000, "bytes_down": 3000}
    usage = [
        usage_row(api, minute=busy, accepted=3, active_max=3, **traffic),
        usage_row(api, minute=quiet, accepted=1, refused=1, messages_up=2, messages_down=2),
    ]
    telemetry_services.write_batch(records=[], usage=usage)
    page = open_page(browser, width)
    sign_in(page, gateway.http_url, "boss")
    page.goto(f"{gateway.http_url}/publisher/apis/{api.name}/metrics/?range=1h")
    fits(page, width)

    # The caption names the bucket in words.
    caption = page.locator("main p.muted", has_text="buckets of").inner_text()
    assert "buckets of 1 minute " in caption, caption
    assert "0:01:00" not in page.content()

    check_axis_text(page)

    # Counts get whole-number ticks: 3 connections at most read 0, 1, 2, 3 (never 1.5).
    for title in COUNT_CHARTS:
        ticks = page.locator(f'figure[data-chart="{title}"] .chart-y span').all_inner_texts()
        assert ticks[0] == "0" and all(re.fullmatch(r"\d[\d,]*", t) for t in ticks), ticks
    attempts = page.locator('figure[data-chart="Connection attempts"]')
    assert attempts.locator(".chart-y span").all_inner_texts() == ["0", "1", "2", "3"]

    # A legend names each series with its total, and Up and Down differ in colour and dash
    # (the lines and their keys in the legend).
    messages = page.locator('figure[data-chart="Messages"]')
    legend = messages.locator(".legend li")
    assert legend.all_inner_texts() == [f"{UP}: 7", f"{DOWN}: 7"]
    up, down = (
        stroke(messages.locator("polyline.s-up")),
        stroke(messages.locator("polyline.s-down")),
    )
    assert up[0] != down[0] and up[1] != down[1], (up, down)
    keys = messages.locator(".legend .chart-key").evaluate_all(
        "els => els.map(e => getComputedStyle(e).borderTopStyle)"
    )
    assert keys == ["solid", "dashed"]

    # Hover: the tooltip tells the bucket's time and both values, inside the chart.
    buckets = messages.locator("table.chart-values tbody th").all_text_contents()
    last = len(buckets) - 1
    plot = messages.locator(".chart-plot")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    tip = messages.locator(".chart-tooltip")
    expect(tip).to_be_hidden()
    at = buckets.index(span(busy))
    page.mouse.move(box["x"] + box["width"] * at / last, box["y"] + box["height"] / 2)
    expect(tip).to_be_visible()
    assert tip.inner_text().splitlines() == [f"{span(busy)} UTC", f"{UP}: 5", f"{DOWN}: 5"]
    shown = tip.bounding_box()
    assert box["x"] <= shown["x"] and shown["x"] + shown["width"] <= box["x"] + box["width"] + 1
    page.mouse.move(1, 1)
    expect(tip).to_be_hidden()

    # Keyboard: Tab reaches the first chart, its tooltip shows the latest bucket, and the arrow
    # keys (Home, End) move through the buckets.
    page.get_by_role("link", name="Last 7 days").focus()
    page.keyboard.press("Tab")
    attempts_plot = attempts.locator(".chart-plot")
    expect(attempts_plot).to_be_focused()
    attempts_tip = attempts.locator(".chart-tooltip")
    expect(attempts_tip).to_be_visible()
    assert attempts_tip.inner_text().splitlines()[0] == f"{buckets[-1]} UTC"
    page.keyboard.press("Home")
    assert attempts_tip.inner_text().splitlines()[0] == f"{buckets[0]} UTC"
    page.keyboard.press("End")
    for _ in range(last - buckets.index(span(quiet))):
        page.keyboard.press("ArrowLeft")
    assert attempts_tip.inner_text().splitlines() == [
        f"{span(quiet)} UTC",
        "Accepted: 1",
        "Refused: 1",
        "Backend failed: 0",
    ]
    page.keyboard.press("Tab")
    expect(attempts_tip).to_be_hidden()

    # The same values as a table, for anyone who would rather read than point.
    messages.get_by_text("Values as a table").click()
    row = messages.locator("table.chart-values tbody tr").nth(at)
    expect(row).to_be_visible()
    assert row.locator("td").all_inner_texts() == ["5", "5"]
    bytes_ticks = page.locator('figure[data-chart="Bytes"] .chart-y span').all_inner_texts()
    assert bytes_ticks == ["0 KiB", "1 KiB", "2 KiB", "3 KiB"]
    screenshot(page, f"api-metrics-charts-{width}")
    for key in ("24h", "7d"):  # longer time labels fit too
        page.goto(f"{gateway.http_url}/publisher/apis/{api.name}/metrics/?range={key}")
        fits(page, width)
        check_axis_text(page)
    page.context.close()
