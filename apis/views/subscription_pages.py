"""Publisher pages for subscriptions: the filtered list and the lifecycle actions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apis import selectors, services
from apis.forms import SubscriptionFilterForm
from apis.models import Subscription
from apis.views.access import mask, publisher_required, safe_next

# The actions publishers take from these pages, in the order their buttons appear.
ACTIONS = ("approve", "reject", "suspend", "reactivate", "cancel")


def subscription_rows(subscriptions) -> list[dict]:
    """Each subscription with its masked keys and the actions its state allows."""
    return [
        {
            "subscription": sub,
            "primary": mask(sub.primary_key),
            "secondary": mask(sub.secondary_key),
            "actions": [a for a in ACTIONS if sub.state in services.TRANSITIONS[a][0]],
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
@require_POST
def subscription_action(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    action = request.POST.get("action", "")
    back = safe_next(request, reverse("publisher:subscription-list"))
    if action not in ACTIONS:
        messages.error(request, f"Unknown action {action[:20]!r}.")
        return redirect(back)
    try:
        services.change_subscription_state(
            subscription=subscription, action=action, comment=request.POST.get("comment", "")
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
