"""Publisher pages for gateways: list with heartbeat, add, edit and assign APIs."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from apis import selectors
from apis.forms import GatewayForm
from apis.models import Gateway
from apis.views.access import publisher_required

# A gateway that reported within this long is shown as online.
ONLINE_WITHIN = timedelta(minutes=2)


def heartbeat_status(gateway: Gateway) -> tuple[str, str]:
    if gateway.last_seen_at is None:
        return "Never seen", "muted"
    if timezone.now() - gateway.last_seen_at <= ONLINE_WITHIN:
        return "Online", "ok"
    return "Offline", "warn"


@publisher_required
def gateway_list(request: HttpRequest) -> HttpResponse:
    rows = [{"gateway": g, "status": heartbeat_status(g)} for g in selectors.gateway_list()]
    return render(request, "apis/gateway_list.html", {"rows": rows, "section": "gateways"})


@publisher_required
def gateway_create(request: HttpRequest) -> HttpResponse:
    form = GatewayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        gateway = form.save()
        if gateway is not None:
            messages.success(request, f"Added the gateway {gateway.name}.")
            return redirect("publisher:gateway-list")
    return render(request, "apis/gateway_form.html", {"form": form, "section": "gateways"})


@publisher_required
def gateway_edit(request: HttpRequest, name: str) -> HttpResponse:
    gateway = get_object_or_404(selectors.gateway_list(), name=name)
    form = GatewayForm(request.POST or None, instance=gateway)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"Saved the gateway {saved.name}.")
            return redirect("publisher:gateway-list")
        gateway.refresh_from_db()
    context = {"form": form, "gateway": gateway, "section": "gateways"}
    context["status"] = heartbeat_status(gateway)
    return render(request, "apis/gateway_form.html", context)
