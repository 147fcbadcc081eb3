"""Publisher pages for gateways: list with heartbeat, add, edit and assign APIs, the nodes'
heartbeats and a deployment panel (node token shown once, the commands that start a node)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from apis import selectors, services
from apis.forms import GatewayForm
from apis.models import Gateway
from apis.nodes.deploy import control_url, node_commands
from apis.selectors.certificates import expiry_state
from apis.views.access import breadcrumbs, publisher_required

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
    context = {"form": form, "section": "gateways"}
    context["crumbs"] = breadcrumbs("gateways", ("Add gateway", None))
    return render(request, "apis/gateway_form.html", context)


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
    return render(request, "apis/gateway_form.html", _edit_context(request, gateway, form))


@publisher_required
def gateway_token(request: HttpRequest, name: str) -> HttpResponse:
    """Regenerate a node token: a confirmation first, then the new token, shown on this one
    response only (only its hash is stored). Administrators only, as in the REST API."""
    gateway = get_object_or_404(selectors.gateway_list(), name=name)
    if not request.user.is_superuser:
        raise PermissionDenied
    which = request.POST.get("which", "primary")
    if request.method != "POST" or which not in ("primary", "secondary"):
        return redirect("publisher:gateway-edit", name=gateway.name)
    if request.POST.get("confirm") != "yes":
        context = {"gateway": gateway, "which": which, "section": "gateways"}
        context["crumbs"] = breadcrumbs(
            "gateways",
            (gateway.name, reverse("publisher:gateway-edit", args=[gateway.name])),
            (f"New {which} node token", None),
        )
        return render(request, "apis/gateway_token_confirm.html", context)
    token = services.regenerate_gateway_token(gateway=gateway, which=which)
    context = _edit_context(request, gateway, GatewayForm(instance=gateway))
    context.update(new_token=token, new_token_which=which)
    context["deploy"] = node_commands(gateway, control_url(request), token)
    response = render(request, "apis/gateway_form.html", context)
    response["Cache-Control"] = "no-store"
    return response


def hostname_rows(gateway: Gateway) -> list[dict]:
    """The gateway's host names with their certificates' expiry, as the page lists them."""
    rows = []
    for row in gateway.hostnames.select_related("certificate").order_by("hostname"):
        cert = row.certificate
        rows.append({"row": row, "certificate": cert, "expiry": expiry_state(cert) if cert else ""})
    return rows


def _edit_context(request: HttpRequest, gateway: Gateway, form) -> dict:
    return {
        "form": form,
        "gateway": gateway,
        "hostnames": hostname_rows(gateway),
        "section": "gateways",
        "crumbs": breadcrumbs("gateways", (gateway.name, None)),
        "status": heartbeat_status(gateway),
        "nodes": selectors.gateway_nodes(gateway),
        "deploy": node_commands(gateway, control_url(request), None),
        "may_regenerate": request.user.is_superuser,
    }
