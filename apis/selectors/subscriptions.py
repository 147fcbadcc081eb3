"""Reads of subscriptions: an owner's, a publisher's lists, those opening an API, how many
connections each has open, and users with theirs for the management API."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from apis.models import Api, Product, Subscription
from apis.permissions import is_publisher


def subscriptions_of(user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(owner=user).select_related("product", "api")


# How the owner's pages order subscriptions: working ones first, finished ones (cancelled,
# rejected, expired) last; newest first within each group.
_FINISHED_STATES = (
    Subscription.State.CANCELLED,
    Subscription.State.REJECTED,
    Subscription.State.EXPIRED,
)


def subscriptions_for_owner_page(user) -> QuerySet[Subscription]:
    finished = Case(
        When(state__in=_FINISHED_STATES, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return subscriptions_of(user).order_by(finished, "-created_at", "-pk")


def subscription_list(*, state: str = "", product: Product | None = None) -> QuerySet[Subscription]:
    qs = Subscription.objects.select_related("owner", "product", "api")
    if state:
        qs = qs.filter(state=state)
    if product is not None:
        qs = qs.filter(product=product)
    return qs.order_by("-created_at", "-pk")


def api_subscriptions(api: Api) -> QuerySet[Subscription]:
    """The subscriptions scoped to exactly this API (deleted along with it)."""
    return Subscription.objects.filter(api=api).select_related("owner").order_by("pk")


def open_connection_counts(subscription_ids) -> dict[int, int] | None:
    """Open connections per subscription on every gateway, as the gateways report them (within
    a second or two); None when no installed app counts them. The telemetry app does, through
    its app config: the catalog never imports it."""
    for config in apps.get_app_configs():
        count = getattr(config, "open_connection_counts", None)
        if count is not None:
            return count(list(subscription_ids))
    return None


# The close reason clients read when a state change closes the subscription's open connections
# (as gateway/node/revocation.py words it); other actions leave open connections alone.
CLOSE_REASONS = {"suspend": "subscription suspended", "cancel": "subscription cancelled"}


def connections_closed_by(subscription: Subscription, action: str) -> dict | None:
    """What `action` does to the subscription's open connections, for its confirmation: the
    close reason and how many are open now (None when not known); None when it closes none."""
    if action not in CLOSE_REASONS:
        return None
    counts = open_connection_counts([subscription.pk])
    return {
        "reason": CLOSE_REASONS[action],
        "open_now": None if counts is None else counts[subscription.pk],
    }


def count_awaiting_approval() -> int:
    return Subscription.objects.filter(state=Subscription.State.SUBMITTED).count()


def subscriptions_granting(user, api: Api) -> QuerySet[Subscription]:
    """The user's active subscriptions whose keys open this API (all APIs, its product, itself)."""
    if not getattr(user, "is_authenticated", False):
        return Subscription.objects.none()
    grants = (
        Q(scope=Subscription.Scope.ALL_APIS)
        | Q(scope=Subscription.Scope.API, api=api)
        | Q(scope=Subscription.Scope.PRODUCT, product__in=api.products.values("pk"))
    )
    return (
        Subscription.objects.filter(grants, owner=user, state=Subscription.State.ACTIVE)
        .select_related("product", "api")
        .order_by("created_at", "pk")
    )


def subscriptions_opening(api: Api) -> QuerySet[Subscription]:
    """Every active subscription, whoever owns it, whose keys open this API (publisher console)."""
    grants = (
        Q(scope=Subscription.Scope.ALL_APIS)
        | Q(scope=Subscription.Scope.API, api=api)
        | Q(scope=Subscription.Scope.PRODUCT, product__in=api.products.values("pk"))
    )
    return (
        Subscription.objects.filter(grants, state=Subscription.State.ACTIVE)
        .select_related("owner", "product", "api")
        .order_by("display_name", "pk")
    )


def management_subscriptions(user) -> QuerySet[Subscription]:
    """Every subscription for a publisher; only their own for anyone else."""
    qs = Subscription.objects.select_related("owner", "product", "api")
    qs = qs.order_by("-created_at", "-pk")
    return qs if is_publisher(user) else qs.filter(owner=user)


def management_users():
    subscriptions = Subscription.objects.select_related("product", "api").order_by("pk")
    return (
        get_user_model()
        .objects.prefetch_related(Prefetch("subscriptions", queryset=subscriptions))
        .order_by("username")
    )
