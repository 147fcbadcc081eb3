"""Telemetry reads for the pages: bucketed series over a range, filtered logs, quota usage."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from apis.telemetry.models import ConnectionLog, RefusalMinute, UsageMinute

# range key -> (label, span, bucket)
RANGES: dict[str, tuple[str, timedelta, timedelta]] = {
    "1h": ("Last hour", timedelta(hours=1), timedelta(minutes=1)),
    "24h": ("Last day", timedelta(days=1), timedelta(minutes=15)),
    "7d": ("Last 7 days", timedelta(days=7), timedelta(hours=2)),
}
DEFAULT_RANGE = "1h"
SUMMED = ("accepted", "refused", "backend_failed", "messages_up", "bytes_up", "messages_down")
SUMMED += ("bytes_down", "handshake_ms_sum", "handshake_count")


@dataclass
class Series:
    """Per-bucket figures over a range, plus totals and refusals by HTTP status."""

    range_key: str
    start: datetime
    bucket: timedelta
    buckets: list[datetime]
    values: dict[str, list[float]]
    totals: dict[str, float] = field(default_factory=dict)
    refusals: list[tuple[str, int, int]] = field(default_factory=list)  # state, status, count

    @property
    def handshake_ms_avg(self) -> float | None:
        count = self.totals.get("handshake_count") or 0
        return self.totals["handshake_ms_sum"] / count if count else None


def range_key(raw: str | None) -> str:
    return raw if raw in RANGES else DEFAULT_RANGE


def _series(usage: QuerySet, refusals: QuerySet, key: str, now: datetime | None) -> Series:
    _label, span, bucket = RANGES[key]
    now = (now or timezone.now()).replace(second=0, microsecond=0) + timedelta(minutes=1)
    count = int(span / bucket)
    start = now - bucket * count
    values = {name: [0.0] * count for name in (*SUMMED, "active")}
    rows = (
        usage.filter(minute__gte=start, minute__lt=now)
        .values("minute")
        .annotate(active=Sum("active_max"), **{name: Sum(name) for name in SUMMED})
    )
    for row in rows:
        i = min(count - 1, int((row["minute"] - start) / bucket))
        for name in SUMMED:
            values[name][i] += row[name] or 0
        values["active"][i] = max(values["active"][i], row["active"] or 0)
    totals = {name: sum(values[name]) for name in SUMMED}
    totals["active_max"] = max(values["active"], default=0)
    by_status = (
        refusals.filter(minute__gte=start, minute__lt=now)
        .values("state", "status")
        .annotate(n=Sum("count"))
        .order_by("status", "state")
    )
    return Series(
        range_key=key,
        start=start,
        bucket=bucket,
        buckets=[start + bucket * i for i in range(count)],
        values=values,
        totals=totals,
        refusals=[(r["state"], r["status"], r["n"]) for r in by_status],
    )


def api_series(*, api_id: int, key: str = DEFAULT_RANGE, now: datetime | None = None) -> Series:
    return _series(
        UsageMinute.objects.filter(api_id=api_id),
        RefusalMinute.objects.filter(api_id=api_id),
        range_key(key),
        now,
    )


def subscription_series(
    *, subscription_id: int, key: str = DEFAULT_RANGE, now: datetime | None = None
) -> Series:
    return _series(
        UsageMinute.objects.filter(subscription_id=subscription_id),
        RefusalMinute.objects.filter(subscription_id=subscription_id),
        range_key(key),
        now,
    )


# Logs -----------------------------------------------------------------------------------------

LOG_RANGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
LOG_RANGES["30d"] = timedelta(days=30)


def connection_logs(
    *,
    api_id: int,
    since: str = "24h",
    state: str = "",
    subscription_id: int | None = None,
    close_code: int | None = None,
    search: str = "",
) -> QuerySet[ConnectionLog]:
    qs = ConnectionLog.objects.filter(api_id=api_id)
    if since in LOG_RANGES:
        qs = qs.filter(started_at__gte=timezone.now() - LOG_RANGES[since])
    if state:
        qs = qs.filter(state=state)
    if subscription_id is not None:
        qs = qs.filter(subscription_id=subscription_id)
    if close_code is not None:
        qs = qs.filter(close_code=close_code)
    if search:
        qs = qs.filter(
            Q(correlation_id__startswith=search.lower())
            | Q(reason__icontains=search)
            | Q(close_reason__icontains=search)
            | Q(error__icontains=search)
        )
    return qs.order_by("-started_at", "-id")


def logged_subscriptions(*, api_id: int) -> list[tuple[int, str]]:
    """The subscriptions seen in an API's logs, for the filter (names as they were recorded)."""
    rows = (
        ConnectionLog.objects.filter(api_id=api_id, subscription_id__isnull=False)
        .values("subscription_id")
        .annotate(name=Max("subscription_name"))
        .order_by("name")
    )
    return [(r["subscription_id"], r["name"]) for r in rows]


# Quota ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaUse:
    api_name: str
    calls: int
    renewal_period: int
    used: int
    by_key: bool  # quota-by-key: counted per counter key, so `used` is this subscription's share


def quota_usage(subscription, *, now: datetime | None = None) -> list[QuotaUse]:
    """Each covered API's top-level quota(-by-key) and the subscription's accepted connections
    over the last renewal period (the gateway's fixed window may start elsewhere)."""
    from apis.models import Api
    from apis.selectors import effective_policy
    from gateway.policies.ratelimits import Quota, QuotaByKey

    now = now or timezone.now()
    if subscription.scope == "api":
        apis = Api.objects.filter(pk=subscription.api_id)
    elif subscription.scope == "product":
        apis = Api.objects.filter(products=subscription.product_id)
    else:
        apis = Api.objects.all()
    uses = []
    for api in apis.order_by("name")[:50]:
        product = subscription.product if subscription.scope == "product" else None
        for policy in effective_policy(api, product).inbound:
            if not isinstance(policy, Quota):
                continue
            used = ConnectionLog.objects.filter(
                api_id=api.id,
                subscription_id=subscription.id,
                state__in=("accepted", "backend_failed"),
                started_at__gte=now - timedelta(seconds=policy.renewal_period),
            ).count()
            uses.append(
                QuotaUse(
                    api.display_name,
                    policy.calls,
                    policy.renewal_period,
                    used,
                    isinstance(policy, QuotaByKey),
                )
            )
    return uses
