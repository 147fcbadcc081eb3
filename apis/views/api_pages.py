"""Publisher pages for WebSocket APIs: list, add, settings, policy, test console, delete."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from apis import selectors, services
from apis.asyncapi.presentation import console_data
from apis.config_warnings import api_warnings
from apis.forms import ApiForm, ApiSettingsForm
from apis.models import Api, Product, Subscription
from apis.selectors.certificates import api_hosts
from apis.views.access import breadcrumbs, optional_url, publisher_required
from apis.views.console_tickets import ticket_view
from apis.views.policy_editor import policy_page


def api_status(api: Api) -> tuple[str, str]:
    """(label, css class) saying whether clients can reach the API."""
    if not api.gateways.all():
        return "Not on a gateway", "warn"
    published = any(p.state == Product.State.PUBLISHED for p in api.products.all())
    if api.subscription_required and not published:
        return "Not published", "muted"
    return "Live", "ok"


def gateway_urls(request: HttpRequest, api: Api) -> list[str]:
    """Where clients call the API: on its gateways' host names (else this host), ws:// and/or
    wss:// per its URL scheme."""
    schemes = {"ws": ["ws"], "wss": ["wss"], "both": ["ws", "wss"]}[api.url_scheme]
    if request.is_secure():
        schemes.reverse()
    hosts = api_hosts(api, request.get_host())
    return [f"{scheme}://{host}/{api.url_suffix}" for host in hosts for scheme in schemes]


def api_tabs(api: Api, current: str) -> list[dict]:
    tabs = [
        ("settings", "Settings", reverse("publisher:api-settings", args=[api.name])),
        # One document edits both onHandshake and onMessage: the tab names neither alone.
        ("policy", "Policies", reverse("publisher:api-policy", args=[api.name])),
        ("test", "Test", reverse("publisher:api-test", args=[api.name])),
        ("asyncapi", "AsyncAPI", reverse("publisher:api-asyncapi", args=[api.name])),
        ("metrics", "Metrics", optional_url("publisher:api-metrics", name=api.name)),
        ("logs", "Logs", optional_url("publisher:api-logs", name=api.name)),
        ("live", "Live", optional_url("publisher:api-live", name=api.name)),
    ]
    return [
        {"key": k, "label": label, "url": url, "current": k == current} for k, label, url in tabs
    ]


def api_crumbs(api: Api, current: str, *deeper: tuple[str, str | None]) -> list[dict]:
    """APIs > the API > its tab `current` (> `deeper` pages within that tab)."""
    tab = next(t for t in api_tabs(api, current) if t["current"])
    return breadcrumbs(
        "apis",
        (api.display_name, reverse("publisher:api-settings", args=[api.name])),
        (tab["label"], tab["url"]),
        *deeper,
    )


def _api(name: str) -> Api:
    return get_object_or_404(selectors.api_list(), name=name)


def _api_context(request, api: Api, tab: str) -> dict:
    return {
        "api": api,
        "tabs": api_tabs(api, tab),
        "crumbs": api_crumbs(api, tab),
        "section": "apis",
    }


@publisher_required
def api_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    rows = [{"api": api, "status": api_status(api)} for api in selectors.api_list(search=search)]
    return render(request, "apis/api_list.html", {"rows": rows, "q": search, "section": "apis"})


@publisher_required
def api_create(request: HttpRequest) -> HttpResponse:
    form = ApiForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        api = form.save()
        if api is not None:
            messages.success(request, f"Added the WebSocket API {api.display_name}.")
            return redirect("publisher:api-settings", api.name)
    context = {"form": form, "host": request.get_host(), "section": "apis"}
    context["crumbs"] = breadcrumbs("apis", ("Add WebSocket API", None))
    return render(request, "apis/api_form.html", context)


@publisher_required
def api_settings(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    form = ApiSettingsForm(request.POST or None, instance=api)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, f"Saved the settings of {saved.display_name}.")
            return redirect("publisher:api-settings", saved.name)
        api.refresh_from_db()  # the failed save left typed values on the instance
    context = {**_api_context(request, api, "settings"), "form": form}
    context["warnings"] = api_warnings(api)
    context["host"] = request.get_host()
    context["gateway_urls"] = gateway_urls(request, api)
    return render(request, "apis/api_settings.html", context)


@publisher_required
def api_policy(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    context = _api_context(request, api, "policy")
    context["effective_variants"] = selectors.effective_policies(api)
    return policy_page(
        request,
        template="apis/api_policy.html",
        context=context,
        current_xml=api.policy_xml,
        save=lambda policy_xml: services.update_api(api=api, policy_xml=policy_xml),
        done=reverse("publisher:api-policy", args=[api.name]),
    )


@publisher_required
def api_test(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    subscription = services.ensure_publisher_console_subscription(user=request.user)
    # The console connects with connect tickets minted on use (audited for others'
    # subscriptions): no key is put in the page or in a WebSocket URL.
    choices = [{"label": "Built-in all-access", "id": subscription.pk}]
    for other in selectors.subscriptions_opening(api).exclude(pk=subscription.pk):
        owner = other.owner.get_username() if other.owner else "standalone"
        choices.append({"label": f"{other.display_name} · {owner}", "id": other.pk})
    context = {
        **_api_context(request, api, "test"),
        "console_urls": gateway_urls(request, api),
        "console_subscriptions": choices,
        "console_ticket_url": reverse("publisher:api-console-ticket", args=[api.name]),
        "console_asyncapi": console_data(api.asyncapi_contract),
    }
    return render(request, "apis/api_test.html", context)


def _console_subscriptions(request: HttpRequest, api: Api):
    own = services.ensure_publisher_console_subscription(user=request.user)
    return selectors.subscriptions_opening(api) | Subscription.objects.filter(pk=own.pk)


api_console_ticket = publisher_required(
    ticket_view(lambda request, name: _api(name), _console_subscriptions, audit_others=True)
)


@publisher_required
def api_delete(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    if request.method == "POST":
        services.delete_api(api=api)
        messages.success(request, f"Deleted the WebSocket API {api.display_name}.")
        return redirect("publisher:api-list")
    context = {
        **_api_context(request, api, "settings"),
        "crumbs": breadcrumbs(
            "apis",
            (api.display_name, reverse("publisher:api-settings", args=[api.name])),
            ("Delete", None),
        ),
        "subscriptions": selectors.api_subscriptions(api),
    }
    return render(request, "apis/api_delete.html", context)
