"""Publisher pages for subscriptions: the list, adding one, state changes and the keys."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from apis import counters, selectors, services
from apis.audit import audit
from apis.forms import StateChangeForm, SubscriptionCreateForm, SubscriptionFilterForm
from apis.models import Subscription
from apis.views.access import mask, publisher_required, safe_next

# The actions publishers take from these pages, in the order their buttons appear.
ACTIONS = ("approve", "reject", "suspend", "reactivate", "cancel")
# Actions that take a working subscription away: their buttons are red.
DESTRUCTIVE = frozenset({"reject", "suspend", "cancel"})
KEY_NAMES = {"primary": "primary key", "secondary": "secondary key"}


def allowed_actions(sub: Subscription) -> list[str]:
    """The lifecycle actions its state allows; none for a built-in all-access subscription,
    which the test console needs and which the portal re-creates on demand anyway."""
    if sub.is_builtin_all_access:
        return []
    return [a for a in ACTIONS if sub.state in services.TRANSITIONS[a][0]]


def subscription_rows(subscriptions) -> list[dict]:
    """Each subscription with its masked keys, open connections and the actions it allows."""
    subscriptions = list(subscriptions)
    connections = counters.connection_usage(subscriptions)
    return [
        {
            "subscription": sub,
            "connections": connections[sub.id],
            "primary": mask(sub.primary_key),
            "secondary": mask(sub.secondary_key),
            "masked": [("primary", mask(sub.primary_key)), ("secondary", mask(sub.secondary_key))],
            "actions": allowed_actions(sub),
            "destructive": DESTRUCTIVE,
            "has_keys": sub.state in selectors.LIVE_SUBSCRIPTION_STATES,
        }
        for sub in subscriptions
    ]


@publisher_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    form = SubscriptionFilterForm(request.GET or None)
    state, product = "", None
    if form.is_valid():
        state, product = form.cleaned_data["state"], form.cleaned_data["product"]
    rows = subscription_rows(selectors.subscription_list(state=state, product=product))
    context = {"form": form, "rows": rows, "section": "subscriptions"}
    return render(request, "apis/subscription_list.html", context)


@publisher_required
@require_http_methods(["GET", "POST"])
def subscription_create(request: HttpRequest) -> HttpResponse:
    form = SubscriptionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        subscription = form.save()
        if subscription is not None:
            messages.success(
                request,
                f"Added the subscription {subscription.display_name} "
                f"({subscription.get_state_display().lower()}).",
            )
            return redirect("publisher:subscription-list")
    context = {"form": form, "section": "subscriptions"}
    return render(request, "apis/subscription_form.html", context)


@publisher_required
@require_http_methods(["GET", "POST"])
def subscription_action(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (with an optional reason); POST changes the state."""
    subscription = get_object_or_404(Subscription.objects.select_related("owner"), pk=pk)
    action = request.POST.get("action") or request.GET.get("action", "")
    back = safe_next(request, reverse("publisher:subscription-list"))
    if action not in ACTIONS:
        messages.error(request, f"Unknown action {action[:20]!r}.")
        return redirect(back)
    if subscription.is_builtin_all_access:
        messages.error(request, f"{subscription.display_name} is built in: its state is fixed.")
        return redirect(back)
    form = StateChangeForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        context = {
            "subscription": subscription,
            "action": action,
            "destructive": action in DESTRUCTIVE,
            "closes": selectors.connections_closed_by(subscription, action),
            "form": form,
            "next": back,
            "section": "subscriptions",
        }
        return render(request, "apis/subscription_action.html", context)
    try:
        services.change_subscription_state(
            subscription=subscription, action=action, comment=form.cleaned_data["comment"]
        )
    except ValidationError as error:
        messages.error(request, f"{subscription.display_name}: {' '.join(error.messages)}")
    else:
        subscription.refresh_from_db()
        messages.success(
            request,
            f"{subscription.display_name} is now {subscription.get_state_display().lower()}.",
        )
    return redirect(back)


@publisher_required
@require_POST
@never_cache
@sensitive_variables("subscription")
def subscription_keys(request: HttpRequest, pk: int) -> JsonResponse:
    """Both keys of one subscription, for Show/Copy; every read goes to the audit log."""
    subscription = get_object_or_404(Subscription, pk=pk)
    audit(request, "subscription keys read", subscription=subscription.pk, via="publisher pages")
    return JsonResponse(
        {"primary": subscription.primary_key, "secondary": subscription.secondary_key}
    )


@publisher_required
@require_http_methods(["GET", "POST"])
def subscription_regenerate(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    subscription = get_object_or_404(Subscription.objects.select_related("owner"), pk=pk)
    if which not in KEY_NAMES:
        raise Http404("No such key.")
    back = safe_next(request, reverse("publisher:subscription-list"))
    if request.method == "POST":
        services.regenerate_subscription_key(subscription=subscription, which=which)
        audit(
            request,
            "subscription key regenerated",
            subscription=subscription.pk,
            which=which,  # "key=" would be redacted by the log filter
            via="publisher pages",
        )
        messages.success(
            request,
            f"The {KEY_NAMES[which]} of {subscription.display_name} was regenerated: the old "
            "key is refused and the connections opened with it are closed.",
        )
        return redirect(back)
    context = {
        "subscription": subscription,
        "which": which,
        "key_name": KEY_NAMES[which],
        "next": back,
        "section": "subscriptions",
    }
    return render(request, "apis/subscription_regenerate.html", context)
