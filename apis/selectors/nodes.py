"""Reads about gateway nodes: which gateway a node token opens, each node's state from its
workers' heartbeats, and whether a gateway is online."""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from apis.models import NODE_ONLINE_SECONDS, Gateway, hash_node_token
from apis.selectors.gateway_catalog import catalog_revision


def gateway_for_node_token(token: str) -> Gateway | None:
    """The gateway whose primary or secondary node token this is, or None.

    Looked up by the token's hash (no timing on the token itself), then confirmed with a
    constant-time comparison of the hashes."""
    if not token:
        return None
    presented = hash_node_token(token)
    gateway = (
        Gateway.objects.filter(Q(primary_token_hash=presented) | Q(secondary_token_hash=presented))
        .only("id", "name", "kind", "primary_token_hash", "secondary_token_hash")
        .first()
    )
    if gateway is None:
        return None
    primary = hmac.compare_digest(gateway.primary_token_hash, presented)
    secondary = hmac.compare_digest(gateway.secondary_token_hash, presented)
    return gateway if primary | secondary else None


# A gateway that has not sent a heartbeat (every 30 s) for this long is reported offline.
GATEWAY_ONLINE_SECONDS = 90


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """One node of a gateway as its workers' latest heartbeats describe it."""

    node_id: str
    hostname: str
    version: str
    revision: int
    revision_current: bool
    workers: int  # as the node was started (run_gateway --workers)
    workers_reporting: int
    open_connections: int
    last_error: str
    last_seen_at: datetime
    online: bool


def gateway_nodes(gateway: Gateway, now: datetime | None = None) -> list[NodeSummary]:
    """The gateway's nodes, online first; a node is online while a worker reported within
    NODE_ONLINE_SECONDS, and its figures add up the workers that did."""
    fresh_after = (now or timezone.now()) - timedelta(seconds=NODE_ONLINE_SECONDS)
    current = catalog_revision()
    by_node: dict[str, list] = {}
    for row in gateway.nodes.order_by("node_id", "-last_seen_at"):
        by_node.setdefault(row.node_id, []).append(row)
    summaries = []
    for node_id, rows in by_node.items():
        fresh = [r for r in rows if r.last_seen_at >= fresh_after] or rows[:1]
        latest = rows[0]
        errors = [r.last_error for r in fresh if r.last_error]
        summaries.append(
            NodeSummary(
                node_id=node_id,
                hostname=latest.hostname,
                version=latest.version,
                revision=min(r.revision for r in fresh),
                revision_current=all(r.revision == current for r in fresh),
                workers=latest.workers,
                workers_reporting=len(fresh) if latest.last_seen_at >= fresh_after else 0,
                open_connections=sum(r.open_connections for r in fresh),
                last_error=errors[0] if errors else "",
                last_seen_at=latest.last_seen_at,
                online=latest.last_seen_at >= fresh_after,
            )
        )
    return sorted(summaries, key=lambda n: (not n.online, n.node_id))


def gateway_status(gateway: Gateway, now: datetime | None = None) -> str:
    """Online when a node reported within GATEWAY_ONLINE_SECONDS, offline, or never seen."""
    if gateway.last_seen_at is None:
        return "never seen"
    age = ((now or timezone.now()) - gateway.last_seen_at).total_seconds()
    return "online" if age <= GATEWAY_ONLINE_SECONDS else "offline"
