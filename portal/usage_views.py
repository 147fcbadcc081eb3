"""A developer's usage of one of their subscriptions: connections, messages, bytes, quota."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apis import counters, selectors
from apis.models import Subscription
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
    series = telemetry_selectors.subscription_series(
        subscription_id=subscription.id, key=request.GET.get("range")
    )
    context = {
        "subscription": subscription,
        "series": series,
        "charts": usage_charts(series),
        "quotas": telemetry_selectors.quota_usage(subscription),
        "connections": counters.connection_usage([subscription])[subscription.id],
        "ranges": [(k, label) for k, (label, _s, _b) in telemetry_selectors.RANGES.items()],
    }
    return render(request, "portal/usage/subscription.html", context)
