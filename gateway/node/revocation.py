"""Revocation of open connections: when access is withdrawn, close what it had let through.

Each process keeps a registry of its live connections and what granted them (API, subscription,
the key's index, product). Whenever the store swaps in a new snapshot, whatever its source, every
grant is checked against it; a connection whose access is gone is closed through its relay
(client 1008 with the reason, backend 1001). A subscription's expiration date is a timer set at
the handshake. Nothing here runs per message: registering and unregistering happen once each.
Each connection is also a listed `Session` (gateway.node.sessions): the registry tells the process's
reporter of opens and closes, and closes a connection by id when an administrator asks.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.catalog.snapshot import Snapshot
from gateway.handshake import keys
from gateway.node.sessions import Session, user_agent_of
from gateway.telemetry.activity import Activity

log = logging.getLogger("portico.gateway")

ENDED_REASONS = {
    "cancelled": "subscription cancelled",
    "expired": "subscription expired",
    "rejected": "subscription rejected",
}


@dataclass(slots=True)
class Grant:
    """What let one connection in; never holds the key itself."""

    api_id: int
    subscription_id: int | None = None
    product_id: int | None = None  # the subscription's product, for product-scoped ones
    key_index: bytes = b""
    expiry_timer: object | None = None
    session: Session | None = None


def withdrawn(grant: Grant, snapshot: Snapshot, now: datetime) -> str | None:
    """Why `grant` no longer holds in `snapshot` (a short reason, no secret), or None."""
    route = snapshot.routes_by_api.get(grant.api_id)
    if route is None:
        return "API removed from this gateway"
    if grant.subscription_id is None:
        return None
    subscription = snapshot.subscriptions_by_id.get(grant.subscription_id)
    if subscription is None:
        ended = snapshot.ended_subscriptions.get(grant.subscription_id)
        if ended is not None:
            return ENDED_REASONS.get(ended, f"subscription {ended}")
        if grant.product_id is not None and grant.product_id not in snapshot.product_names:
            # A gateway receives only the products that offer one of its APIs, so a deleted
            # product and one that no longer offers this API look alike here: both took it out.
            return "API removed from the product"
        return "subscription deleted"
    if subscription.state == "suspended":
        return "subscription suspended"
    if subscription.state != "active":
        return f"subscription {subscription.state}"
    if subscription.expiration_date is not None and subscription.expiration_date <= now:
        return "subscription expired"
    if subscription.product_id in snapshot.unpublished_products:
        return "product unpublished"
    if not keys.covers(subscription, route):
        return "API removed from the product"
    if not grant.key_index:  # admitted by a connect ticket: no key to have been regenerated
        return None
    found = snapshot.subscriptions_by_key.get(grant.key_index)
    if found is None or found[0].id != grant.subscription_id:
        return "key regenerated"
    return None


class LiveConnections:
    """This process's open connections and their grants."""

    def __init__(self, activity: Activity | None = None) -> None:
        self._live: dict[object, Grant] = {}  # relay -> grant
        # Whose traffic counts moved: the reporter's per-second counts read it (shared with the
        # recorder in a gateway process: one pass over the open connections for both).
        self.activity = activity if activity is not None else Activity()
        self._by_id: dict[str, object] = {}  # connection id -> relay
        self.reporter = None  # gateway.node.sessions.SessionReporter, told of opens and closes

    def __len__(self) -> int:
        return len(self._live)

    def sessions(self) -> list[Session]:
        return [grant.session for grant in self._live.values() if grant.session is not None]

    def session_count(self) -> int:
        return len(self._by_id)

    def add(
        self, relay, handshake, current: Snapshot | None, *, connection_id: str = "", scope=None
    ) -> None:
        """Register a connection accepted under `current`'s predecessor or `current` itself;
        with a `connection_id` it is also listed as a live session."""
        subscription = handshake.subscription
        api = handshake.route.api
        grant = Grant(api_id=api.id)
        if connection_id:
            grant.session = Session(
                connection_id=connection_id,
                api_id=api.id,
                api_name=api.name,
                subscription_id=subscription.id if subscription is not None else None,
                product_id=subscription.product_id if subscription is not None else None,
                client_ip=handshake.client_ip[:45],
                user_agent=user_agent_of(scope or {}),
                opened_at=datetime.now(UTC),
                stats=relay.stats,
                tags=handshake.tags,
            )
        if subscription is not None:
            grant.subscription_id = subscription.id
            grant.product_id = subscription.product_id
            grant.key_index = handshake.key_index
            expires = subscription.expiration_date
            if expires is not None:
                delay = (expires - datetime.now(UTC)).total_seconds()
                grant.expiry_timer = asyncio.get_running_loop().call_later(
                    max(0.0, delay), relay.revoke, "subscription expired"
                )
        self._live[relay] = grant
        if grant.session is not None:
            self._by_id[connection_id] = relay
            self.activity.watch(relay.stats, session=grant.session)
            if self.reporter is not None:
                self.reporter.on_open(grant.session)
        # A swap during the backend connect was not checked against this connection yet.
        if current is not None:
            reason = withdrawn(grant, current, datetime.now(UTC))
            if reason is not None:
                relay.revoke(reason)
                self.remove(relay)

    def remove(self, relay) -> None:
        grant = self._live.pop(relay, None)
        if grant is None:
            return
        if grant.expiry_timer is not None:
            grant.expiry_timer.cancel()
        if grant.session is not None:
            self._by_id.pop(grant.session.connection_id, None)
            self.activity.unwatch(grant.session.stats, session=True)
            if self.reporter is not None:
                self.reporter.on_close(grant.session.connection_id)

    def relay_of(self, connection_id: str):
        """The relay of a listed connection this process holds, or None."""
        return self._by_id.get(connection_id)

    def disconnect(self, connection_id: str, reason: str) -> bool:
        """Close one connection as an administrator asked (client 1008 with `reason`, backend
        1001); False when this process does not hold it (any more)."""
        relay = self._by_id.get(connection_id)
        if relay is None:
            return False
        log.info("closing connection %s as asked: %s", connection_id, reason)
        relay.revoke(reason)
        self.remove(relay)
        return True

    def on_swap(self, old: Snapshot | None, new: Snapshot) -> None:
        """The store's listener: close every connection whose grant the new snapshot withdrew."""
        if not self._live:
            return
        now = datetime.now(UTC)
        revoked = 0
        for relay, grant in list(self._live.items()):
            reason = withdrawn(grant, new, now)
            if reason is not None:
                relay.revoke(reason)
                self.remove(relay)
                revoked += 1
        if revoked:
            log.info(
                "revision %s: closed %d connection(s) whose access ended", new.revision, revoked
            )
