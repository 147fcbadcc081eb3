"""The process's counter store (Redis, else memory): the gateway's policies and connection caps
count in it, and the pages that show a subscription's open connections read it."""

import logging

from apis.selectors.subscriptions import open_connection_counts
from gateway.config import policy_runtime  # one runtime per process, shared with the gateway
from gateway.policies.counters import CountersUnavailable

log = logging.getLogger("portico.portal")


def open_connections(subscription_ids) -> dict[int, int] | None:
    """Open connections per subscription as the connection caps count them; None when the
    counter store cannot be read. With memory:// counters only this process's connections
    count (the demo serves both planes in one process; production shares Redis)."""
    ids = list(subscription_ids)
    runtime = policy_runtime()
    try:
        counts = runtime.open_slots([runtime.subscription_connections_key(i) for i in ids])
    except CountersUnavailable as exc:
        log.warning("open connections unavailable: %s", exc)
        return None
    return dict(zip(ids, counts, strict=True))


def subscription_cap(subscription) -> int | None:
    """The cap shown for a subscription: its product's, or its API's (an API in a product may
    set a smaller one, which then applies on that API)."""
    if subscription.product is not None:
        return subscription.product.max_connections_per_subscription
    if subscription.api is not None:
        return subscription.api.max_connections_per_subscription
    return None


def connections_text(open_count: int | None, cap: int | None) -> str:
    """ "2 of 5 connections open", "1 connection open", or why it is not known."""
    if open_count is None:
        return "open connections unknown (counters unavailable)"
    if cap is not None:
        return f"{open_count} of {cap} connections open"
    return f"{open_count} connection{'' if open_count == 1 else 's'} open"


def connection_usage(subscriptions) -> dict[int, str]:
    """Each subscription's open connections and cap, as pages show it.

    The gateways' live reports count every open connection; the counter store counts only
    those a cap holds a slot for (and, on memory:// counters, only this process's). A capped
    subscription shows the larger of the two, so the page never shows less than the cap counts
    (a connection a moment old, or one whose gateway stopped until its lease runs out)."""
    subscriptions = list(subscriptions)
    ids = [s.id for s in subscriptions]
    live = open_connection_counts(ids)
    capped = [s.id for s in subscriptions if subscription_cap(s) is not None]
    held = open_connections(capped) if capped else {}
    usage = {}
    for s in subscriptions:
        counts = [c[s.id] for c in (live, held) if c is not None and s.id in c]
        known = live is not None or (s.id in capped and held is not None)
        usage[s.id] = connections_text(
            max(counts, default=0) if known else None, subscription_cap(s)
        )
    return usage
