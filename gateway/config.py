"""The gateway's configuration, read from Django settings once into a frozen `GatewayConfig`.

This is the one gateway module (with the process entry, `run_gateway`) that reads settings:
the composition root (`gateway.lifecycle`) builds the config here and hands it down, so the
rest of the data plane takes its configuration as arguments.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage

from gateway.policies import PolicyRuntime


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every setting the data plane reads (names follow the PORTICO_* settings)."""

    gateway: str
    node_id: str
    self_hosted: bool  # True: a node pulling its config from `control_url` over HTTP
    control_url: str
    gateway_token: str
    var_dir: Path
    base_dir: Path
    heartbeat_seconds: float
    snapshot_poll_seconds: float
    backend_connect_timeout: float
    keepalive_seconds: float
    shutdown_grace_seconds: float
    handshake_timeout_seconds: float
    handshake_concurrency: int  # handshakes in progress per worker (0: unbounded)
    listen_backlog: int
    close_grace_seconds: float
    relay_mode: str  # "auto" or "framed"
    max_message_bytes_ceiling: int
    trusted_proxies: tuple[str, ...]
    tls: bool  # serve wss:// (SNI from the catalog's host names, the files for other names)
    tls_certfile: str
    tls_keyfile: str
    limits_storage: str
    redis_url: str  # messages to connections arrive over its pub/sub (gateway.node.mailbox)
    limits_key_prefix: str
    counters_timeout_seconds: float
    counters_fail_open: bool
    concurrency_lease_seconds: float
    telemetry_enabled: bool
    telemetry_buffer_size: int
    telemetry_spool_records: int
    telemetry_batch_size: int
    telemetry_flush_ms: int
    metrics_token: str
    metrics_allowed_networks: tuple[str, ...]
    tracing_enabled: bool  # an OTLP endpoint is configured (the OTEL_* variables do the rest)
    # The portal's own cookies reach the gateway's host; they are never forwarded to a backend.
    portal_cookie_names: frozenset[str]
    # Not settings: what the process entry (`run_gateway`) knows of the node it runs.
    port: int | None = None
    workers: int = 1

    @classmethod
    def from_settings(cls) -> "GatewayConfig":
        s = settings
        return cls(
            gateway=s.PORTICO_GATEWAY,
            node_id=s.PORTICO_NODE_ID,
            self_hosted=s.SELF_HOSTED_NODE,
            control_url=s.PORTICO_CONTROL_URL,
            gateway_token=s.PORTICO_GATEWAY_TOKEN,
            var_dir=Path(s.VAR_DIR),
            base_dir=Path(s.BASE_DIR),
            heartbeat_seconds=s.PORTICO_HEARTBEAT_SECONDS,
            snapshot_poll_seconds=s.PORTICO_SNAPSHOT_POLL_SECONDS,
            backend_connect_timeout=s.PORTICO_BACKEND_CONNECT_TIMEOUT,
            keepalive_seconds=s.PORTICO_KEEPALIVE_SECONDS,
            shutdown_grace_seconds=s.PORTICO_SHUTDOWN_GRACE_SECONDS,
            handshake_timeout_seconds=s.PORTICO_HANDSHAKE_TIMEOUT_SECONDS,
            handshake_concurrency=s.PORTICO_HANDSHAKE_CONCURRENCY,
            listen_backlog=s.PORTICO_LISTEN_BACKLOG,
            close_grace_seconds=s.PORTICO_CLOSE_GRACE_SECONDS,
            relay_mode=s.PORTICO_RELAY_MODE,
            max_message_bytes_ceiling=s.PORTICO_MAX_MESSAGE_BYTES_CEILING,
            trusted_proxies=tuple(s.PORTICO_TRUSTED_PROXIES),
            tls=s.PORTICO_GATEWAY_TLS,
            tls_certfile=s.PORTICO_GATEWAY_TLS_CERTFILE,
            tls_keyfile=s.PORTICO_GATEWAY_TLS_KEYFILE,
            limits_storage=s.PORTICO_LIMITS_STORAGE,
            redis_url=s.REDIS_URL,
            limits_key_prefix=s.PORTICO_LIMITS_KEY_PREFIX,
            counters_timeout_seconds=s.PORTICO_COUNTERS_TIMEOUT_SECONDS,
            counters_fail_open=s.PORTICO_COUNTERS_FAIL_OPEN,
            concurrency_lease_seconds=s.PORTICO_CONCURRENCY_LEASE_SECONDS,
            telemetry_enabled=s.PORTICO_TELEMETRY_ENABLED,
            telemetry_buffer_size=s.PORTICO_TELEMETRY_BUFFER_SIZE,
            telemetry_spool_records=s.PORTICO_TELEMETRY_SPOOL_RECORDS,
            telemetry_batch_size=s.PORTICO_TELEMETRY_BATCH_SIZE,
            telemetry_flush_ms=s.PORTICO_TELEMETRY_FLUSH_MS,
            metrics_token=s.PORTICO_METRICS_TOKEN,
            metrics_allowed_networks=tuple(s.PORTICO_METRICS_ALLOWED_NETWORKS),
            tracing_enabled=s.PORTICO_TRACING_ENABLED,
            portal_cookie_names=frozenset(
                {s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, CookieStorage.cookie_name}
            ),
        )


def build_policy_runtime(config: GatewayConfig) -> PolicyRuntime:
    return PolicyRuntime(
        limits_storage_uri=config.limits_storage,
        trusted_proxies=list(config.trusted_proxies),
        region=config.gateway,
        key_prefix=config.limits_key_prefix,
        counter_timeout=config.counters_timeout_seconds,
        counters_fail_open=config.counters_fail_open,
        concurrency_lease_seconds=config.concurrency_lease_seconds,
    )


@cache
def policy_runtime() -> PolicyRuntime:
    """One runtime per process (rate-limit counters, JWKS caches, concurrency slots), shared by
    the gateway and the pages that show open connections: in the demo both run in one process
    and must count in the same memory."""
    return build_policy_runtime(GatewayConfig.from_settings())
