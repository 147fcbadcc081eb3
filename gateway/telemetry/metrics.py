"""Prometheus metrics of one gateway process, in their own registry, with bounded labels only.

Labels are the gateway name, the API name, a state, an HTTP status, a direction, a closing
side, a host name or a certificate's name: never a key, an IP address or a subscription id.
"""

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

HANDSHAKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """The metric families; `child` caches label lookups so a connection pays a dict lookup."""

    def __init__(self, gateway: str, registry: CollectorRegistry | None = None) -> None:
        self.gateway = gateway
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.attempts = Counter(
            "portico_connection_attempts",
            "WebSocket connection attempts by outcome and HTTP status (101 = accepted).",
            ["gateway", "api", "state", "status"],
            registry=r,
        )
        self.active = Gauge(
            "portico_active_connections",
            "WebSocket connections open now.",
            ["gateway", "api"],
            registry=r,
        )
        self.messages = Counter(
            "portico_messages",
            "Messages relayed (up = client to backend), sampled while connections are open.",
            ["gateway", "api", "direction"],
            registry=r,
        )
        self.bytes = Counter(
            "portico_message_bytes",
            "Message payload bytes relayed, sampled while connections are open.",
            ["gateway", "api", "direction"],
            registry=r,
        )
        self.handshake = Histogram(
            "portico_handshake_seconds",
            "Time from the client's handshake to its acceptance (policies and backend connect).",
            ["gateway", "api"],
            buckets=HANDSHAKE_BUCKETS,
            registry=r,
        )
        self.closes = Counter(
            "portico_connection_closes",
            "Accepted connections that ended, by the side that closed.",
            ["gateway", "api", "closed_by"],
            registry=r,
        )
        self.source_dropped = Counter(
            "portico_event_source_dropped_events",
            "Events an event-source API dropped for clients that fell behind (drop-oldest).",
            ["gateway", "api"],
            registry=r,
        )
        self.dropped = Counter(
            "portico_telemetry_dropped_records",
            "Connection records dropped because the recorder's buffer or spool was full.",
            ["gateway"],
            registry=r,
        )
        self.spool_dropped = Counter(
            "portico_telemetry_spool_full_dropped_records",
            "Connection records dropped because the spool of unwritten batches was full.",
            ["gateway"],
            registry=r,
        )
        self.spooled = Gauge(
            "portico_telemetry_spooled_records",
            "Connection records waiting in the spool to be written (database or control plane).",
            ["gateway"],
            registry=r,
        )
        self.write_failures = Counter(
            "portico_telemetry_write_failures",
            "Telemetry batch writes that failed and were left in the spool to be retried.",
            ["gateway"],
            registry=r,
        )
        self.certificate_expiry = Gauge(
            "portico_certificate_expiry_timestamp_seconds",
            "When the certificate served on each of the gateway's host names expires (Unix time).",
            ["gateway", "hostname", "certificate"],
            registry=r,
        )
        self.tasks = Gauge(
            "portico_gateway_tasks",
            "asyncio tasks of this process's event loop (read when scraped).",
            ["gateway"],
            registry=r,
        )
        self.tasks.labels(gateway).set_function(_running_tasks)
        self._children: dict[tuple, object] = {}

    def set_certificates(self, hostnames) -> None:
        """Show the expiry of each host name's certificate (HostnameEntry values), only these."""
        self.certificate_expiry.clear()
        for entry in hostnames:
            if entry.not_after is not None:
                self.certificate_expiry.labels(
                    self.gateway, entry.hostname, entry.certificate_name
                ).set(entry.not_after.timestamp())

    def on_swap(self, old, new) -> None:
        """A snapshot-store listener: follow the catalog's host names."""
        if old is None or old.hostnames != new.hostnames:
            self.set_certificates(new.hostnames.values())

    def child(self, family, *labels: str):
        key = (id(family), *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = family.labels(self.gateway, *labels)
        return found


def add(child, amount: float = 1) -> None:
    """`child.inc(amount)` of a counter or gauge child (`dec` with a negative amount, gauges
    only): prometheus_client (0.26) checks on every call that the metric has its labels, which a
    child from `GatewayMetrics.child` has by construction; this is the value's own locked add,
    one call instead of four (a handshake makes several)."""
    child._value.inc(amount)


def _running_tasks() -> int:
    # /metrics is rendered on the event loop's thread; anywhere else there is no loop to count.
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        return 0
