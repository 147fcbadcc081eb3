"""Publisher pages for live connections: an API's Live tab, a subscription's live connections,
and closing one (a confirmation page first; the close is audited like the API's)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from apis.audit import audit
from apis.models import Api, Subscription
from apis.telemetry import live_selectors, live_services
from apis.telemetry.models import LiveConnection
from apis.views.access import breadcrumbs, publisher_required, safe_next
from apis.views.api_pages import api_crumbs, api_tabs

PAGE_LIMIT = 500  # the REST API pages through more


def opened_ago(opened_at, now) -> str:
    """How long ago, in seconds for the first minute ("timesince" says "0 minutes" there)."""
    seconds = max(0, int((now - opened_at).total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'} ago"
    return f"{timesince(opened_at, now)} ago"


def live_rows(rows) -> list[dict]:
    """Rows for apis/telemetry/live_table.html (subscription names in one query)."""
    rows = list(rows[:PAGE_LIMIT])
    names = live_selectors.subscription_names(rows)
    now = timezone.now()
    return [
        {
            "c": row,
            "subscription_name": names.get(row.subscription_id, ""),
            "opened_ago": opened_ago(row.opened_at, now),
        }
        for row in rows
    ]


def page_path(request: HttpRequest) -> str:
    """This page's own address without ?partial (the Close links come back here)."""
    query = request.GET.copy()
    query.pop("partial", None)
    return request.path + (f"?{query.urlencode()}" if query else "")


def render_live(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The whole page, or only its table for static/js/live-refresh.js (?partial=table)."""
    if request.GET.get("partial") == "table":
        template = "apis/telemetry/live_table_body.html"
    return render(request, template, context)


@publisher_required
def api_live(request: HttpRequest, name: str) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    rows = live_selectors.live_connections(request.user, api_id=api.id)
    context = {
        "api": api,
        "tab": "live",
        "tabs": api_tabs(api, "live"),
        "crumbs": api_crumbs(api, "live"),
        "section": "apis",
        "rows": live_rows(rows),
        "total": rows.count(),
        "close_url": "publisher:live-connection-close",
        "send_url": "publisher:live-connection-send",
        "next": page_path(request),
    }
    return render_live(request, "apis/telemetry/live.html", context)


@publisher_required
def subscription_live(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription.objects.select_related("owner"), pk=pk)
    rows = live_selectors.live_connections(request.user, subscription=subscription.pk)
    context = {
        "subscription": subscription,
        "section": "subscriptions",
        "crumbs": breadcrumbs(
            "subscriptions", (f"Live connections of {subscription.display_name}", None)
        ),
        "rows": live_rows(rows),
        "total": rows.count(),
        "close_url": "publisher:live-connection-close",
        "send_url": "publisher:live-connection-send",
        "next": page_path(request),
    }
    return render_live(request, "apis/telemetry/subscription_live.html", context)


def visible_connection(user, connection_id: str) -> LiveConnection:
    found = live_selectors.live_connections(user).filter(connection_id=connection_id).first()
    if found is None:
        raise Http404("No such open connection.")
    return found


def close_connection(request: HttpRequest, connection: LiveConnection, reason: str) -> None:
    """Ask for the close, write the audit line and tell the user (pages of either area)."""
    connection = live_services.request_disconnect(connection=connection, reason=reason)
    audit(
        request,
        "live connection closed",
        connection=connection.connection_id,
        api=connection.api_name,
        subscription=connection.subscription_id,
        node=connection.process.node_id,
        reason=repr(connection.disconnect_reason),
    )
    messages.success(
        request, f"Connection {connection.connection_id[:8]}… is closing (within a second or two)."
    )


@publisher_required
@require_http_methods(["GET", "POST"])
def connection_close(request: HttpRequest, connection_id: str) -> HttpResponse:
    """GET asks first (with an optional reason the client sees); POST closes."""
    connection = visible_connection(request.user, connection_id)
    back = safe_next(request, reverse("publisher:api-live", args=[connection.api_name]))
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()[:120]
        close_connection(request, connection, reason or live_services.DEFAULT_REASON)
        return redirect(back)
    context = {
        "row": live_rows([connection])[0],
        "default_reason": live_services.DEFAULT_REASON,
        "next": back,
        "section": "apis",
        "crumbs": breadcrumbs(
            "apis",
            (connection.api_name, reverse("publisher:api-settings", args=[connection.api_name])),
            ("Live", reverse("publisher:api-live", args=[connection.api_name])),
            ("Close connection", None),
        ),
    }
    return render(request, "apis/telemetry/live_close.html", context)
