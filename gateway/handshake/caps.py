"""Connection caps: at most N open connections per subscription, held as concurrency slots.

The cap is the API's or the subscription's product's, whichever is smaller (see
`Route.connection_cap`). Slots are the limit-concurrency ones: leases in Redis renewed by each
process (exact across workers and nodes, back after a crash), or counted in this process.
"""

from collections.abc import Callable

from gateway.handshake.request import Handshake
from gateway.policies.counters import CountersUnavailable
from gateway.refusal import Refusal


async def hold_connection_slot(runtime, handshake: Handshake) -> Callable[[], None] | None:
    """Take one of the subscription's connection slots; its release, or None when uncapped.

    Raises Refusal(429) at the cap, naming how many are open (never the key)."""
    subscription = handshake.subscription
    if subscription is None:
        return None
    cap = handshake.route.connection_cap(subscription)
    if cap is None:
        return None
    try:
        release, held = await runtime.take_counted_slot(
            runtime.subscription_connections_key(subscription.id), cap
        )
    except CountersUnavailable as exc:
        refusal = runtime.counters_unavailable(exc)
        if refusal is None:  # PORTICO_COUNTERS_FAIL_OPEN: let it through uncounted
            return None
        raise Refusal(
            refusal.status, refusal.message, reason=f"connection cap not counted: {exc}"
        ) from None
    if release is None:
        message = (
            f"connection limit reached: {held} of {cap} connections open for this subscription"
        )
        raise Refusal(
            429,
            message,
            reason=f"{message} (subscription {subscription.id})",
            headers={"Retry-After": "1"},
        )
    return release
