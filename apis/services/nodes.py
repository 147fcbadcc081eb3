"""Writes about gateway nodes: their node tokens and their heartbeats."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apis.models import (
    NODE_FORGET_SECONDS,
    NODE_ONLINE_SECONDS,
    Gateway,
    GatewayNode,
    generate_node_token,
    hash_node_token,
)

__all__ = [
    "NODE_FORGET_SECONDS",
    "NODE_ONLINE_SECONDS",
    "record_gateway_heartbeat",
    "record_node_heartbeat",
    "regenerate_gateway_token",
]


@transaction.atomic
def regenerate_gateway_token(*, gateway: Gateway, which: str = "primary") -> str:
    """Give the gateway a new node token and return it: only its hash is stored, so this is
    the one moment it can be shown. Nodes still using the old token are refused from now on."""
    if which not in ("primary", "secondary"):
        raise ValueError("which must be 'primary' or 'secondary'")
    token = generate_node_token()
    setattr(gateway, f"{which}_token_hash", hash_node_token(token))
    gateway.full_clean()
    gateway.save(update_fields=[f"{which}_token_hash", "updated_at"])
    return token


_NODE_FIELDS = ("hostname", "version", "revision", "workers", "open_connections", "last_error")


def record_gateway_heartbeat(*, name: str, node_count: int, version: str) -> None:
    """Mark a gateway as seen now; an update() so it does not bump the catalog revision."""
    Gateway.objects.filter(name=name).update(
        last_seen_at=timezone.now(), node_count=node_count, node_version=version[:50]
    )


@transaction.atomic
def record_node_heartbeat(*, gateway_name: str, report: dict) -> GatewayNode | None:
    """Store one gateway process's heartbeat (see gateway.node.heartbeat for the fields).

    Rows of the same node from workers that stopped reporting are removed (a restarted worker
    has a new pid), as are nodes silent for a day. Plain updates, so no catalog revision bump."""
    gateway = Gateway.objects.filter(name=gateway_name).first()
    if gateway is None:
        return None
    now = timezone.now()
    values = {field: report[field] for field in _NODE_FIELDS if field in report}
    if report.get("started_at"):
        values["started_at"] = report["started_at"]
    node, _ = GatewayNode.objects.update_or_create(
        gateway=gateway,
        node_id=report["node_id"],
        worker=report["worker"],
        defaults={**values, "last_seen_at": now},
    )
    stale = now - timedelta(seconds=NODE_ONLINE_SECONDS)
    GatewayNode.objects.filter(
        gateway=gateway, node_id=node.node_id, last_seen_at__lt=stale
    ).delete()
    GatewayNode.objects.filter(
        gateway=gateway, last_seen_at__lt=now - timedelta(seconds=NODE_FORGET_SECONDS)
    ).delete()
    online = (
        GatewayNode.objects.filter(gateway=gateway, last_seen_at__gte=stale)
        .values("node_id")
        .distinct()
        .count()
    )
    record_gateway_heartbeat(name=gateway.name, node_count=online, version=node.version)
    return node
