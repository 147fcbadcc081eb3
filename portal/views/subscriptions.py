"""A developer's own subscriptions: list with masked keys, rename, cancel, regenerate a key.

Pages never carry a key: Show and Copy read them with a POST (session and CSRF token) to
`subscription_keys`.

Every view looks the subscription up among the signed-in user's own, so another user's id
answers 404 whatever the action.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from apis import selectors, services
from apis.models import Subscription
from portal.forms import RenameSubscriptionForm

KEY_NAMES = {"primary": "primary key", "secondary": "secondary key"}
# States whose keys can still open a connection (now or after approval/reactivation).
LIVE_STATES = (
    Subscription.State.SUBMITTED,
    Subscription.State.ACTIVE,
    Subscription.State.SUSPENDED,
)


def _own_subscription(request: HttpRequest, pk: int) -> Subscription:
    return get_object_or_404(selectors.subscriptions_of(request.user), pk=pk)


@login_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = selectors.subscriptions_for_owner_page(request.user)
    context = {"subscriptions": subscriptions, "live_states": LIVE_STATES}
    return render(request, "portal/subscription_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_rename(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    form = RenameSubscriptionForm(
        request.POST or None, initial={"display_name": subscription.display_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rename_subscription(
                subscription=subscription, display_name=form.cleaned_data["display_name"]
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("display_name", message)
        else:
            messages.success(request, "The subscription was renamed.")
            return redirect("portal:subscriptions")
    status = 400 if request.method == "POST" else 200
    context = {"subscription": subscription, "form": form}
    return render(request, "portal/subscription_rename.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    if subscription.is_builtin_all_access:
        messages.error(request, f"{subscription.display_name} is built in: it cannot be cancelled.")
        return redirect("portal:subscriptions")
    if request.method == "POST":
        try:
            services.cancel_subscription(subscription=subscription, comment="Cancelled by owner")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{subscription.display_name} was cancelled.")
        return redirect("portal:subscriptions")
    context = {
        "subscription": subscription,
        "closes": selectors.connections_closed_by(subscription, "cancel"),
    }
    return render(request, "portal/subscription_cancel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_variables("subscription")
def subscription_regenerate(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    subscription = _own_subscription(request, pk)
    if which not in KEY_NAMES:
        raise Http404("No such key.")
    if subscription.state not in LIVE_STATES:
        messages.error(
            request, f"A {subscription.get_state_display().lower()} subscription has no keys."
        )
        return redirect("portal:subscriptions")
    if subscription.state == Subscription.State.SUBMITTED:
        messages.error(request, "A pending subscription gets keys to use once it is approved.")
        return redirect("portal:subscriptions")
    if request.method == "POST":
        services.regenerate_subscription_key(subscription=subscription, which=which)
        messages.success(
            request,
            f"The {KEY_NAMES[which]} of {subscription.display_name} was regenerated: the old "
            "key is refused and the connections opened with it are closed.",
        )
        return redirect("portal:subscriptions")
    context = {"subscription": subscription, "which": which, "key_name": KEY_NAMES[which]}
    return render(request, "portal/subscription_regenerate.html", context)


@login_required
@require_POST
@never_cache
@sensitive_variables("subscription")
def subscription_keys(request: HttpRequest, pk: int) -> JsonResponse:
    """Both keys of one of the user's own subscriptions that has usable keys, for Show/Copy."""
    subscription = _own_subscription(request, pk)
    if subscription.state not in (Subscription.State.ACTIVE, Subscription.State.SUSPENDED):
        raise Http404("This subscription has no keys to show.")
    return JsonResponse(
        {"primary": subscription.primary_key, "secondary": subscription.secondary_key}
    )
