"""Live connections, reads: who sees which open connections, with filters, newest reports only."""

import re

from django.db.models import Count, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from apis.models import Api, Product, Subscription
from apis.permissions import is_publisher
from apis.telemetry.live_services import stale_before
from apis.telemetry.models import LiveConnection


def live_connections(
    user,
    *,
    api: str = "",
    product: str = "",
    subscription: int | str | None = None,
    node: str = "",
    api_id: int | None = None,
    gateway: str = "",
    tag: tuple[str, str] | None = None,
) -> QuerySet[LiveConnection]:
    """Open connections `user` may see: publishers every one, others their subscriptions' own.

    Connections of a process that stopped reporting are never listed (see STALE_SECONDS)."""
    rows = LiveConnection.objects.filter(process__reported_at__gte=stale_before()).select_related(
        "process"
    )
    if not is_publisher(user):
        rows = rows.filter(subscription_id__in=Subscription.objects.filter(owner=user).values("id"))
    if api:
        rows = rows.filter(api_id__in=Api.objects.filter(name=api).values("id"))
    if api_id is not None:
        rows = rows.filter(api_id=api_id)
    if product:
        rows = rows.filter(product_id__in=Product.objects.filter(name=product).values("id"))
    if subscription not in (None, ""):
        rows = rows.filter(subscription_id=subscription)
    if node:
        rows = rows.filter(process__node_id=node)
    if gateway:
        rows = rows.filter(process__gateway=gateway)
    if tag is not None:
        # Cast: compared as text on every database (SQLite would compare the key's value with
        # the given one read as JSON, and "lobby" is not JSON).
        tag_value = Cast(KeyTextTransform(tag[0], "tags"), output_field=TextField())
        rows = rows.annotate(_tag=tag_value).filter(_tag=tag[1])
    return rows.order_by("opened_at", "id")


TAG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def parse_tag(value: str) -> tuple[str, str]:
    """`name=value` as a (name, value) pair, or a ValueError saying what is wrong."""
    name, sep, tag_value = value.partition("=")
    if not sep or not TAG_NAME.fullmatch(name):
        raise ValueError("A tag as name=value (the name: letters, digits, _ . -, at most 40).")
    if "\x00" in tag_value or len(tag_value) > 100:
        raise ValueError("A tag's value: at most 100 characters, no NUL.")
    return name, tag_value


def open_counts(subscription_ids) -> dict[int, int]:
    """Open connections per subscription on every gateway, as `live_connections` lists them
    (one query; a subscription with none counts 0)."""
    ids = list(subscription_ids)
    rows = (
        LiveConnection.objects.filter(
            process__reported_at__gte=stale_before(), subscription_id__in=ids
        )
        .values("subscription_id")
        .annotate(open=Count("id"))
    )
    counts = {row["subscription_id"]: row["open"] for row in rows}
    return {i: counts.get(i, 0) for i in ids}


def subscription_names(rows) -> dict[int, str]:
    """Display names of the subscriptions of `rows` (one query), for lists and pages."""
    ids = {row.subscription_id for row in rows if row.subscription_id is not None}
    return dict(Subscription.objects.filter(pk__in=ids).values_list("pk", "display_name"))
