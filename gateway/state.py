"""What one gateway process shares (config, link, stores), found by each connection in its scope.

Built once by the composition root (`gateway.lifecycle.build_state`), like the `Config` and
`ServerState` uvicorn hands its protocols: the consumer gets it as Channels' `as_asgi(state=)`
init argument; the HTTP endpoints find it in their (short-lived) scope (`with_state`). Never a
module global.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.catalog.store import SnapshotStore
from gateway.config import GatewayConfig
from gateway.controlplane import ControlPlaneLink
from gateway.handshake.tickets import MemoryMarks, RedisMarks
from gateway.node.heartbeat import Heartbeat
from gateway.node.mailbox import Mailbox, RedisListener
from gateway.node.revocation import LiveConnections
from gateway.node.sessions import SessionReporter
from gateway.policies import PolicyRuntime
from gateway.sources.feeds import SourceHub
from gateway.telemetry.recorder import Recorder

if TYPE_CHECKING:
    from gateway.telemetry.tracing import Tracing

STATE_KEY = "portico.gateway"


@dataclass(slots=True, eq=False)
class GatewayState:
    config: GatewayConfig
    link: ControlPlaneLink
    store: SnapshotStore
    live: LiveConnections
    reporter: SessionReporter
    heartbeat: Heartbeat
    recorder: Recorder
    mailbox: Mailbox  # messages from the control plane to live connections
    listener: RedisListener | None  # how they arrive where REDIS_URL is set
    runtime: PolicyRuntime  # counters, JWKS caches, slots: shared with the pages in the demo
    marks: MemoryMarks | RedisMarks  # spent connect tickets
    trusted_proxies: list  # parsed PORTICO_TRUSTED_PROXIES
    metrics_networks: list  # parsed PORTICO_METRICS_ALLOWED_NETWORKS
    # Event-source backends: broker clients and one shared subscription per followed name.
    sources: SourceHub = field(default_factory=SourceHub)
    tracing: "Tracing | None" = None  # OpenTelemetry, when an OTLP endpoint is configured


def state_of(scope: dict) -> GatewayState:
    return scope[STATE_KEY]


def with_state(app, state: GatewayState):
    """`app` with `state` in every scope it sees: for HTTP requests only, whose scopes live as
    long as one request (a WebSocket connection's would be held, one more dict, all its life)."""

    async def app_with_state(scope, receive, send):
        return await app({**scope, STATE_KEY: state}, receive, send)

    return app_with_state
