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


@login_required
def subscription_usage(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(
        Subscription.objects.select_related("product", "api"),
        pk=subscription_id,
        owner=request.user,
    )
    live = live_selectors.live_connections(request.user, subscription=subscription.id)
    series = telemetry_selectors.subscription_series(
        subscription_id=subscription.id, key=request.GET.get("range")
    )
    context = {
        "subscription": subscription,
        "series": series,
        "charts": usage_charts(series),
        "quotas": telemetry_selectors.quota_usage(subscription),
        "connections": counters.connection_usage([subscription])[subscription.id],
        "live": live_views.live_rows(live),
        "live_total": live.count(),
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
