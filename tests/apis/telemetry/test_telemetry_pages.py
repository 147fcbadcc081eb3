"""The Metrics and Logs tabs, the CSV export, one record and pruning, on stored telemetry."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apis import services
from apis.telemetry import services as telemetry_services
from apis.telemetry.models import ConnectionLog, RefusalMinute, UsageMinute
from tests.support.telemetry import connection_record, usage_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    gateway = services.ensure_builtin_gateway()
    return services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="echo", gateways=[gateway]
    )


@pytest.fixture
def stored(api):
    records = [connection_record(api, i) for i in range(60)]
    records.append(
        connection_record(
            api,
            99,
            state="refused",
            status=429,
            reason="policy refused: rate limit",
            close_code=None,
            closed_by="",
            messages_up=0,
            bytes_up=0,
        )
    )
    records.append(
        connection_record(api, 98, close_code=4001, closed_by="backend", close_reason="=cmd()")
    )
    usage = [usage_row(api, accepted=61, refused=1, messages_up=183, bytes_up=1830, active_max=4)]
    refusals = [usage_row(api, state="refused", status=429, count=1)]
    telemetry_services.write_batch(records=records, usage=usage, refusals=refusals)
    # a second flush adds to the same minute's row
    telemetry_services.write_batch(
        records=[], usage=[usage_row(api, accepted=1, active_max=2)], refusals=refusals
    )
    return api


def test_per_minute_upserts_add_up_and_keep_the_highest_active_count(stored):
    row = UsageMinute.objects.get(api_id=stored.id)
    assert (row.accepted, row.refused, row.messages_up, row.active_max) == (62, 1, 183, 4)
    assert RefusalMinute.objects.get(api_id=stored.id, status=429).count == 2


@pytest.mark.parametrize("name", ["api-metrics", "api-logs", "api-logs-csv"])
def test_anonymous_users_are_sent_to_log_in_and_developers_are_refused(client, api, name):
    url = reverse(f"publisher:{name}", args=[api.name])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(User.objects.create_user("dev", password="x"))
    assert client.get(url).status_code == 403


def test_metrics_tab_draws_svg_charts_with_the_figures(admin_client, stored):
    response = admin_client.get(reverse("publisher:api-metrics", args=[stored.name]) + "?range=1h")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 4 and html.count("<polyline") == 8
    assert 'data-figure="accepted"><span>Accepted</span><strong>62</strong>' in html
    assert 'data-figure="active_max"><span>Most open at once</span><strong>4</strong>' in html
    assert '<tr data-status="429"><td>429</td><td>Refused</td><td>2</td></tr>' in html
    week = admin_client.get(reverse("publisher:api-metrics", args=[stored.name]) + "?range=7d")
    assert "nothing in this range" not in week.content.decode()
    other = services.create_api(display_name="Quiet", backend_url="ws://x/", url_suffix="quiet")
    quiet = admin_client.get(reverse("publisher:api-metrics", args=[other.name]))
    assert quiet.content.decode().count("nothing in this range") == 4


def test_logs_tab_filters_and_pages(admin_client, stored):
    url = reverse("publisher:api-logs", args=[stored.name])
    first = admin_client.get(url).content.decode()
    assert first.count("<tr data-correlation=") == 50 and "Page 1 of 2 (62 connections)" in first
    refused = admin_client.get(url, {"state": "refused"}).content.decode()
    assert refused.count("<tr data-correlation=") == 1 and f"{99:032x}" in refused
    by_code = admin_client.get(url, {"close_code": 4001}).content.decode()
    assert by_code.count("<tr data-correlation=") == 1 and f"{98:032x}" in by_code
    searched = admin_client.get(url, {"q": "rate limit"}).content.decode()
    assert searched.count("<tr data-correlation=") == 1
    by_id = admin_client.get(url, {"q": f"{7:032x}"}).content.decode()
    assert by_id.count("<tr data-correlation=") == 1
    by_prefix = admin_client.get(url, {"q": f"{0x3A:032x}"[:31]}).content.decode()
    assert by_prefix.count("<tr data-correlation=") == 12  # 0x30 to 0x3b
    other = admin_client.get(url, {"subscription": 5, "since": "1h"}).content.decode()
    assert "Page 1 of 2 (62 connections)" in other


def test_the_filter_bar_shows_the_listed_range_and_names_a_bad_close_code(admin_client, stored):
    url = reverse("publisher:api-logs", args=[stored.name])
    assert (
        '<option value="24h" selected>Last day</option>' in admin_client.get(url).content.decode()
    )
    bad = admin_client.get(url, {"state": "refused", "close_code": 99999}).content.decode()
    assert "Ensure this value is less than or equal to 4999." in bad
    assert bad.count("<tr data-correlation=") == 1  # the state filter still applies
    assert '<option value="24h" selected>Last day</option>' in bad


@pytest.mark.parametrize(
    ("key", "words"), [("1h", "1 minute"), ("24h", "15 minutes"), ("7d", "2 hours")]
)
def test_the_metrics_caption_names_the_bucket_in_words(admin_client, stored, key, words):
    url = reverse("publisher:api-metrics", args=[stored.name])
    html = admin_client.get(url, {"range": key}).content.decode()
    assert f"drawn in buckets of {words} (times in UTC)" in html
    assert "0:01:00" not in html and "0:15:00" not in html


def test_each_row_opens_its_full_record(admin_client, stored):
    log = ConnectionLog.objects.get(correlation_id=f"{99:032x}")
    response = admin_client.get(reverse("publisher:log-detail", args=[stored.name, log.pk]))
    html = response.content.decode()
    assert 'data-field="reason">policy refused: rate limit<' in html
    assert 'data-field="status">429<' in html
    assert "<dt>Client IP</dt>" in html and "<dt>Correlation ID</dt>" in html
    assert 'data-field="duration_ms">12.0 ms<' in html
    started = timezone.localtime(log.started_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f'data-field="started_at">{started} ' in html
    other = services.create_api(display_name="Other", backend_url="ws://x/", url_suffix="other")
    wrong_api = reverse("publisher:log-detail", args=[other.name, log.pk])
    assert admin_client.get(wrong_api).status_code == 404


def test_csv_export_has_every_filtered_row_and_no_formulas(admin_client, stored):
    url = reverse("publisher:api-logs-csv", args=[stored.name])
    response = admin_client.get(url, {"closed_by": "", "since": "24h"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv") and len(rows) == 62
    backend_closed = next(r for r in rows if r["close_code"] == "4001")
    assert backend_closed["close_reason"] == "'=cmd()"
    only_refused = admin_client.get(url, {"state": "refused"})
    assert b"".join(only_refused.streaming_content).decode().count("\n") == 2


def test_prune_deletes_only_what_is_older_than_the_retention(stored):
    old = connection_record(stored, 1000, started_at=timezone.now() - timedelta(days=31))
    telemetry_services.write_batch(records=[old], usage=[], refusals=[])
    UsageMinute.objects.create(
        minute=timezone.now() - timedelta(days=40), gateway="managed", api_id=stored.id
    )
    out = io.StringIO()
    call_command("prune_connection_logs", stdout=out)
    assert "Deleted 1 connection logs, 1 usage minutes, 0 refusal minutes" in out.getvalue()
    assert ConnectionLog.objects.count() == 62 and UsageMinute.objects.count() == 1
    call_command("prune_connection_logs", "--days", "1", stdout=out)
    assert ConnectionLog.objects.count() == 62  # all from the last minute


@pytest.mark.parametrize(
    ("ms", "shown"),
    [(0.04, "0.0 ms"), (12.345, "12.3 ms"), (1234.5, "1.23 s"), (187_400, "3 min 7 s")],
)
def test_durations_are_rounded_to_a_readable_unit(ms, shown):
    from apis.telemetry.record_display import milliseconds

    assert milliseconds(ms) == shown
