"""In a real browser, after real traffic: the Metrics tab shows the figures, Logs the rows."""

import pytest

from apis.telemetry.models import ConnectionLog, UsageMinute
from tests.support.browser import make_user, screenshot, sign_in
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def traffic(gateway, catalog) -> tuple[str, str]:
    """Two accepted connections (3 messages up) and one 401; returns the 401's correlation id."""

    async def scenario():
        for _ in range(2):
            async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
                await ws.send("ping")
                await ws.recv()
        async with ws_connect(f"{gateway.ws_url}/echo?subscription-key={catalog.key}") as ws:
            await ws.send("!close 4001 browser test")
            await ws.wait_closed()
        return await refused(f"{gateway.ws_url}/echo")

    refusal = run(scenario())
    api_id = catalog.api.id
    assert wait_for(lambda: ConnectionLog.objects.filter(api_id=api_id).count() == 4, timeout=15)
    assert wait_for(
        lambda: (
            sum(UsageMinute.objects.filter(api_id=api_id).values_list("messages_up", flat=True))
            == 3
        ),
        timeout=15,
    )
    return refusal.body["correlationId"], catalog.api.name


def test_metrics_and_logs_tabs_show_the_traffic(gateway, catalog, page):
    serve_current_catalog(gateway)
    refused_id, name = traffic(gateway, catalog)
    make_user("boss", is_staff=True, is_superuser=True)
    sign_in(page, gateway.http_url, "boss")

    page.goto(f"{gateway.http_url}/publisher/apis/{name}/metrics/")
    assert page.locator('[data-figure="accepted"] strong').inner_text() == "3"
    assert page.locator('[data-figure="refused"] strong').inner_text() == "1"
    assert page.locator('[data-figure="messages"] strong').inner_text() == "3 / 2"
    assert page.locator('tr[data-status="401"] td').nth(2).inner_text() == "1"
    assert page.locator("svg.chart").count() == 4
    attempts = page.locator('figure[data-chart="Connection attempts"]')
    assert attempts.locator('[data-series="Accepted"] .series-total').inner_text() == "3"
    screenshot(page, "api-metrics")

    page.click("nav.tabs >> text=Logs")
    rows = page.locator("#connection-logs tr[data-correlation]")
    assert rows.count() == 4
    assert "4001 by backend" in page.locator("#connection-logs").inner_text()
    page.select_option("#id_state", "refused")
    page.click("form.filters button[type=submit]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-correlation") == refused_id
    screenshot(page, "api-logs")
    rows.first.locator("a").click()
    assert page.locator('[data-field="reason"]').inner_text() == "missing subscription key"
    assert page.locator('[data-field="status"]').inner_text() == "401"
    assert catalog.key not in page.content()
