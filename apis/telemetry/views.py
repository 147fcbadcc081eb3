"""Publisher pages for one API: the Metrics tab (SVG charts), the Logs tab, CSV, one record."""

import csv

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from apis.models import Api
from apis.telemetry import selectors
from apis.telemetry.charts import duration_words, usage_charts
from apis.telemetry.forms import LogFilterForm
from apis.telemetry.models import ConnectionLog
from apis.telemetry.record_display import message_samples, record_fields
from apis.views.access import publisher_required
from apis.views.api_pages import api_tabs

PAGE_SIZE = 50
CSV_LIMIT = 100_000
CSV_COLUMNS = [
    "correlation_id",
    "started_at",
    "ended_at",
    "duration_ms",
    "gateway",
    "api_name",
    "product_name",
    "subscription_id",
    "subscription_name",
    "client_ip",
    "user_agent",
    "path",
    "state",
    "status",
    "reason",
    "backend_connect_ms",
    "handshake_ms",
    "close_code",
    "close_reason",
    "closed_by",
    "messages_up",
    "bytes_up",
    "messages_down",
    "bytes_down",
    "messages_dropped",
    "error",
]


@publisher_required
def api_metrics(request: HttpRequest, name: str) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    series = selectors.api_series(api_id=api.id, key=request.GET.get("range"))
    context = {
        "api": api,
        "tab": "metrics",
        "tabs": api_tabs(api, "metrics"),
        "section": "apis",
        "series": series,
        "charts": usage_charts(series),
        "bucket": duration_words(series.bucket),
        "ranges": [(k, label) for k, (label, _s, _b) in selectors.RANGES.items()],
    }
    return render(request, "apis/telemetry/metrics.html", context)


def _filtered(request: HttpRequest, api: Api):
    form = LogFilterForm(
        request.GET or None, subscriptions=selectors.logged_subscriptions(api_id=api.id)
    )
    return form, selectors.connection_logs(api_id=api.id, **form.filters())


@publisher_required
def api_logs(request: HttpRequest, name: str) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    form, logs = _filtered(request, api)
    page = Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "api": api,
        "tab": "logs",
        "tabs": api_tabs(api, "logs"),
        "section": "apis",
        "form": form,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "apis/telemetry/logs.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    """Plain text, never a spreadsheet formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@publisher_required
def api_logs_csv(request: HttpRequest, name: str) -> StreamingHttpResponse:
    api = get_object_or_404(Api, name=name)
    _form, logs = _filtered(request, api)
    writer = csv.writer(_Echo())
    rows = logs.values_list(*CSV_COLUMNS)[:CSV_LIMIT].iterator(chunk_size=2000)

    def lines():
        yield writer.writerow(CSV_COLUMNS)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{api.name}-connections.csv"'
    return response


@publisher_required
def log_detail(request: HttpRequest, name: str, log_id: int) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    record = get_object_or_404(ConnectionLog, pk=log_id, api_id=api.id)
    fields = record_fields(record)
    samples = message_samples(record)
    return render(
        request,
        "apis/telemetry/log_detail.html",
        {
            "api": api,
            "tab": "logs",
            "tabs": api_tabs(api, "logs"),
            "section": "apis",
            "record": record,
            "fields": fields,
            "samples": samples,
        },
    )
