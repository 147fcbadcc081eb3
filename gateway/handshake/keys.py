"""Subscription keys at the handshake: where they are read, which subscription they prove."""

from datetime import datetime

from gateway.catalog.contract import SubscriptionEntry
from gateway.catalog.snapshot import Route, Snapshot
from gateway.refusal import Refusal

MISSING_KEY_MESSAGE = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_KEY_MESSAGE = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)


def read_key(route: Route, headers: dict[str, str], query: list[tuple[str, str]]) -> str | None:
    """The key from the API's header, or else from its query parameter."""
    value = headers.get(route.api.key_header.lower())
    if value:
        return value
    name = route.api.key_query
    for key, val in query:
        if key == name and val:
            return val
    return None


def check_subscription(
    snapshot: Snapshot, route: Route, presented: str | None, now: datetime
) -> SubscriptionEntry:
    """The subscription that `presented` proves for `route`, or a Refusal (401/403)."""
    return check_key(snapshot, route, presented, now)[0]


def check_key(
    snapshot: Snapshot, route: Route, presented: str | None, now: datetime
) -> tuple[SubscriptionEntry, bytes]:
    """`check_subscription`, and the key's index in the snapshot (one keyed hash for both)."""
    if not presented:
        raise Refusal(401, MISSING_KEY_MESSAGE, reason="missing subscription key")
    subscription, index = snapshot.find_key(presented)
    if subscription is None:
        raise Refusal(401, INVALID_KEY_MESSAGE, reason="invalid subscription key")
    if not covers(subscription, route):
        raise Refusal(401, INVALID_KEY_MESSAGE, reason="key's subscription does not cover the API")
    check_state(snapshot, subscription, now)
    return subscription, index


def check_state(snapshot: Snapshot, subscription: SubscriptionEntry, now: datetime) -> None:
    """Refuse (403) a subscription that is not usable now, however it was proved."""
    if subscription.product_id in snapshot.unpublished_products:
        raise Refusal(
            403, "The subscription's product is not published.", reason="product unpublished"
        )
    if subscription.state == "suspended":
        raise Refusal(403, "Subscription is suspended.", reason="subscription suspended")
    if subscription.state != "active":
        raise Refusal(
            403, "Subscription is not active yet.", reason=f"subscription {subscription.state}"
        )
    if subscription.start_date is not None and subscription.start_date > now:
        raise Refusal(403, "Subscription is not active yet.", reason="subscription starts later")
    if subscription.expiration_date is not None and subscription.expiration_date <= now:
        raise Refusal(403, "Subscription has expired.", reason="subscription expired")


def covers(subscription: SubscriptionEntry, route: Route) -> bool:
    if subscription.scope == "all_apis":
        return True
    if subscription.scope == "api":
        return subscription.api_id == route.api.id
    return subscription.product_id in route.product_ids
