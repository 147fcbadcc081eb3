"""Writes to subscriptions: subscribe, the lifecycle actions, keys and names, and a publisher's
built-in all-access subscription for the test console."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apis.models import Api, Product, Subscription, generate_secret

State = Subscription.State

# Which states each lifecycle action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({State.SUBMITTED}), State.ACTIVE),
    "reject": (frozenset({State.SUBMITTED}), State.REJECTED),
    "suspend": (frozenset({State.ACTIVE}), State.SUSPENDED),
    "reactivate": (frozenset({State.SUSPENDED}), State.ACTIVE),
    "cancel": (frozenset({State.SUBMITTED, State.ACTIVE, State.SUSPENDED}), State.CANCELLED),
    "expire": (frozenset({State.ACTIVE, State.SUSPENDED}), State.EXPIRED),
}


@transaction.atomic
def create_subscription(
    *,
    display_name: str,
    owner: AbstractBaseUser | None = None,
    scope: str = Subscription.Scope.PRODUCT,
    product: Product | None = None,
    api: Api | None = None,
    state: str | None = None,
    expiration_date=None,
) -> Subscription:
    """Subscribe; a product that requires approval starts the subscription as submitted."""
    if product is not None and owner is not None and product.subscriptions_limit is not None:
        # Lock the owner's rows so two concurrent requests cannot both pass the limit.
        held = (
            Subscription.objects.select_for_update()
            .filter(owner=owner, product=product)
            .exclude(state__in=[State.CANCELLED, State.REJECTED, State.EXPIRED])
            .count()
        )
        if held >= product.subscriptions_limit:
            raise ValidationError(
                {
                    "product": f"You already hold {held} subscription(s) to "
                    f"{product.display_name}, its limit per user."
                }
            )
    if state is None:
        needs_approval = product is not None and product.approval_required
        state = State.SUBMITTED if needs_approval else State.ACTIVE
    subscription = Subscription(
        display_name=display_name,
        owner=owner,
        scope=scope,
        product=product,
        api=api,
        state=state,
        expiration_date=expiration_date,
    )
    if state == State.ACTIVE:
        subscription.start_date = timezone.now()
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def change_subscription_state(
    *, subscription: Subscription, action: str, comment: str = ""
) -> Subscription:
    """Apply a lifecycle action (approve, reject, suspend, reactivate, cancel, expire)."""
    try:
        allowed_from, target = TRANSITIONS[action]
    except KeyError:
        raise ValueError(f"unknown subscription action {action!r}") from None
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.state not in allowed_from:
        raise ValidationError(
            {
                "state": f"A {subscription.get_state_display().lower()} subscription cannot be "
                f"{_past_tense(action)}."
            }
        )
    now = timezone.now()
    subscription.state = target
    subscription.state_comment = comment
    if target == State.ACTIVE and subscription.start_date is None:
        subscription.start_date = now
    if target in (State.CANCELLED, State.EXPIRED, State.REJECTED):
        subscription.end_date = now
    subscription.full_clean()
    subscription.save()
    return subscription


def _past_tense(action: str) -> str:
    return {"reactivate": "reactivated", "expire": "expired", "approve": "approved"}.get(
        action, action + "ed"
    )


def approve_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="approve", comment=comment)


def reject_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="reject", comment=comment)


def suspend_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="suspend", comment=comment)


def reactivate_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(
        subscription=subscription, action="reactivate", comment=comment
    )


def cancel_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="cancel", comment=comment)


@transaction.atomic
def regenerate_subscription_key(*, subscription: Subscription, which: str) -> Subscription:
    """Replace exactly one key; the old one stops working on the next handshake."""
    if which not in ("primary", "secondary"):
        raise ValueError("which must be 'primary' or 'secondary'")
    field = f"{which}_key"
    setattr(subscription, field, generate_secret())
    subscription.full_clean()
    subscription.save(update_fields=[field, "updated_at"])
    return subscription


@transaction.atomic
def rename_subscription(*, subscription: Subscription, display_name: str) -> Subscription:
    subscription.display_name = display_name
    subscription.full_clean()
    subscription.save(update_fields=["display_name", "updated_at"])
    return subscription


@transaction.atomic
def ensure_publisher_console_subscription(*, user: AbstractBaseUser) -> Subscription:
    """The publisher's built-in all-access subscription for the test console, made on demand."""
    existing = (
        Subscription.objects.select_for_update()
        .filter(owner=user, is_builtin_all_access=True, state=State.ACTIVE)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    subscription = Subscription(
        display_name=f"Built-in all-access ({user.get_username()})"[:100],
        owner=user,
        scope=Subscription.Scope.ALL_APIS,
        state=State.ACTIVE,
        start_date=timezone.now(),
        is_builtin_all_access=True,
    )
    subscription.full_clean()
    subscription.save()
    return subscription
