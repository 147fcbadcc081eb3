"""A developer's usage of one of their subscriptions: connections, messages, bytes, quota."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apis import counters, selectors
from apis.models import Subscription
from apis.telemetry import live_selectors, live_services, live_views
from apis.telemetry import selectors as telemetry_selectors
from apis.telemetry.charts import usage_charts


@login_required
def usage_index(request: HttpRequest) -> HttpResponse:
    """The way in from the menu: each of the user's subscriptions, linked to its usage."""
    subscriptions = selectors.subscriptions_for_owner_page(request.user)
    return render(request, "portal/usage/index.html", {"subscriptions": subscriptions})


def open_connections(request: HttpRequest, subscription: Subscription) -> dict:
    """The subscription's open connections, listed and counted from one read of the gateways'
    live reports, so that "Now:" and the table agree; and what its connection cap counts when
    that is more (a connection opened a moment ago, or held by a gateway that stopped, takes its
    place in the cap before the live list shows it, and keeps it until its lease runs out)."""
    live = live_selectors.live_connections(request.user, subscription=subscription.id)
    rows = live_views.live_rows(live)
    total = len(rows) if len(rows) < live_views.PAGE_LIMIT else live.count()
    cap = counters.subscription_cap(subscription)
    cap_counts = None
    if cap is not None:
        counted = counters.open_connections([subscription.id])
        if counted is not None and counted[subscription.id] > total:
            cap_counts = counters.connections_text(counted[subscription.id], cap)
    return {
        "connections": counters.connections_text(total, cap),
        "cap_counts": cap_counts,
        "live": rows,
        "live_total": total,
        "here": reverse("portal:subscription-usage", args=[subscription.pk]),
    }


@login_required
def subscription_usage(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(
        Subscription.objects.select_related("product", "api"),
        pk=subscription_id,
        owner=request.user,
    )
    context = {"subscription": subscription, **open_connections(request, subscription)}
    if request.GET.get("partial") == "live":  # static/js/live-refresh.js, every few seconds
        return render(request, "portal/usage/live_parts.html", context)
    series = telemetry_selectors.subscription_series(
        subscription_id=subscription.id, key=request.GET.get("range")
    )
    context |= {
        "series": series,
        "charts": usage_charts(series),
        "quotas": telemetry_selectors.quota_usage(subscription),
        "ranges": [(k, label) for k, (label, _s, _b) in telemetry_selectors.RANGES.items()],
    }
    return render(request, "portal/usage/subscription.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def connection_close(
    request: HttpRequest, subscription_id: int, connection_id: str
) -> HttpResponse:
    """A developer closes one of their own open connections (another's answers 404)."""
    subscription = get_object_or_404(Subscription, pk=subscription_id, owner=request.user)
    connection = live_views.visible_connection(request.user, connection_id)
    if connection.subscription_id != subscription.pk:
        return redirect("portal:subscription-usage", subscription_id=connection.subscription_id)
    back = reverse("portal:subscription-usage", args=[subscription.pk])
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()[:120]
        live_views.close_connection(request, connection, reason or live_services.OWNER_REASON)
        return redirect(back)
    context = {
        "subscription": subscription,
        "row": live_views.live_rows([connection])[0],
        "default_reason": live_services.OWNER_REASON,
        "next": back,
    }
    return render(request, "portal/usage/live_close.html", context)
