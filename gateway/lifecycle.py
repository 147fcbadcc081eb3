"""The composition root of a gateway process: build its config, link and stores once, hand them
down, and start and stop them with the ASGI lifespan.

`build_state` is the one place that decides "database or HTTP?" (`build_link`) and creates the
process's shared objects; `build_application` routes WebSocket APIs through Channels' router with
that state in each scope, the way uvicorn hands its protocols a `Config` and a `ServerState`.
"""

import asyncio
import gc
import logging
from functools import partial

from channels.routing import ProtocolTypeRouter

from gateway.catalog.store import SnapshotStore
from gateway.config import GatewayConfig, policy_runtime
from gateway.controlplane import ControlPlaneLink
from gateway.endpoints.routes import gateway_http
from gateway.handshake.policies import compile_route_pipelines
from gateway.handshake.tickets import build_marks
from gateway.node.heartbeat import Heartbeat, node_id
from gateway.node.mailbox import Mailbox, RedisListener
from gateway.node.revocation import LiveConnections
from gateway.node.sessions import SessionReporter
from gateway.policies.clientaddr import parse_networks
from gateway.routing import websocket_application
from gateway.sources.feeds import SourceHub
from gateway.state import GatewayState, with_state
from gateway.telemetry.activity import Activity
from gateway.telemetry.recorder import Recorder
from gateway.telemetry.spool import DiskSpool

log = logging.getLogger("portico.gateway")

SHUTDOWN_FLUSH_SECONDS = 5.0
# Allocations between young collections (CPython's default is 700). A process holding thousands
# of connections keeps ~10 collector-tracked objects per connection; the default sent one full
# collection through all of them (over 100 ms of CPU at 9,000) every minute or two of idling,
# driven by the minutely full live report's short-lived dicts. Ten times fewer young
# collections make full ones ten times rarer. A tunnel's per-message path allocates no tracked
# objects; the framed relay's does, and meets a young collection a tenth as often, each over
# ten times the objects (7,000 young objects: well under a millisecond here).
GC_YOUNG_THRESHOLD = 7000


def build_link(config: GatewayConfig) -> ControlPlaneLink:
    """The database for a managed gateway; the control plane over HTTP for a self-hosted node."""
    if config.self_hosted:
        from gateway.controlplane.http import ControlPlane, HttpLink
        from gateway.controlplane.savedconfig import config_path

        return HttpLink(
            config.gateway,
            ControlPlane(config.control_url, config.gateway_token),
            config_path(config.var_dir, config.gateway),
        )
    # Imported only here: a managed gateway's link is the one gateway module that imports apis.
    from gateway.controlplane.database import DatabaseLink

    return DatabaseLink(config.gateway, config.snapshot_poll_seconds)


def build_recorder(
    config: GatewayConfig, link: ControlPlaneLink, activity: Activity | None = None
) -> Recorder:
    """Telemetry written through the link from its spool (memory or disk), or metrics only."""
    enabled = config.telemetry_enabled
    return Recorder(
        gateway=config.gateway,
        writer=link.write_telemetry if enabled else None,
        buffer_size=config.telemetry_buffer_size,
        batch_size=config.telemetry_batch_size,
        flush_ms=config.telemetry_flush_ms,
        spool=link.telemetry_spool(config) if enabled else None,
        activity=activity,
    )


def build_state(config: GatewayConfig) -> GatewayState:
    link = build_link(config)
    runtime = policy_runtime()  # one per process: the demo's pages read the same counters
    store = SnapshotStore(
        config.gateway, link, compile_pipeline=partial(compile_route_pipelines, runtime=runtime)
    )
    # One pass a second over the open connections' counts, for the reporter and the recorder.
    activity = Activity()
    live = LiveConnections(activity)
    store.add_listener(live.on_swap)
    node = node_id(config)
    mailbox = Mailbox(live, gateway=config.gateway, node_id=lambda: node)
    listener = RedisListener(mailbox, config.redis_url) if config.redis_url else None
    reporter = SessionReporter(
        live, send=link.send_live_report, node_id=lambda: node, deliver=mailbox.handle
    )
    heartbeat = Heartbeat(
        store,
        live,
        send=link.send_heartbeat,
        interval=config.heartbeat_seconds,
        node=node,
        workers=config.workers,
    )
    recorder = build_recorder(config, link, activity)
    store.add_listener(recorder.metrics.on_swap)  # certificate expiry gauges
    return GatewayState(
        config=config,
        link=link,
        store=store,
        live=live,
        reporter=reporter,
        heartbeat=heartbeat,
        recorder=recorder,
        mailbox=mailbox,
        listener=listener,
        runtime=runtime,
        marks=build_marks(config),
        trusted_proxies=parse_networks(config.trusted_proxies),
        metrics_networks=parse_networks(config.metrics_allowed_networks),
        sources=SourceHub(timeout=config.backend_connect_timeout),
        tracing=build_tracing(config, node),
    )


def build_tracing(config: GatewayConfig, node: str):
    """The process's tracer, or None (the OpenTelemetry SDK is then never imported)."""
    if not config.tracing_enabled:
        return None
    from gateway.telemetry.tracing import Tracing

    return Tracing(gateway=config.gateway, node=node)


def build_application(state: GatewayState, *, other_http):
    """WebSocket APIs (Channels' URL router), the gateway's endpoints, and `other_http` for
    every other HTTP request (the portal in the demo, a JSON 404 on a gateway node)."""

    async def http_application(scope, receive, send) -> None:
        if not await gateway_http(scope, receive, send):
            await other_http(scope, receive, send)

    return ProtocolTypeRouter(
        {
            "http": with_state(http_application, state),
            "websocket": websocket_application(state),
            "lifespan": partial(lifespan_app, state),
        }
    )


async def lifespan_app(state: GatewayState, scope, receive, send) -> None:
    """ASGI lifespan: start loading the catalog (in the background, so the server listens and
    answers 503 until it is there); at shutdown (after connections closed), flush."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # What the process loaded to start lives as long as it: frozen, it is out of the
            # collector's way, and a full collection no longer walks its ~120,000 objects
            # (about 25 ms, which every message in flight would wait out).
            gc.collect()
            gc.freeze()
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
            state.store.start()
            state.heartbeat.start()
            # Told of opens and closes only once it runs: a server without lifespan (Daphne)
            # reports no live sessions, and queues none either.
            state.live.reporter = state.reporter
            state.reporter.start()
            # Messages to connections: in-process (the demo's control plane) and over Redis.
            state.mailbox.start_local()
            if state.listener is not None:
                state.listener.start()
            state.recorder.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await shutdown(state)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def shutdown(state: GatewayState) -> None:
    """After open connections closed: flush telemetry and the live list, stop the rest."""
    recorder = state.recorder
    if recorder.writer is not None:
        try:
            written = await asyncio.wait_for(recorder.flush(force=True), SHUTDOWN_FLUSH_SECONDS)
            log.info("telemetry flushed at shutdown: %d connection record(s)", written)
        except Exception:  # noqa: BLE001 - shutting down either way
            log.exception("telemetry flush at shutdown failed")
        left = recorder.spool.records if len(recorder.spool) else 0
        if left and isinstance(recorder.spool, DiskSpool):
            log.warning(
                "telemetry: %d record(s) stay in the spool on disk for the next start", left
            )
        elif left:
            log.error("telemetry: %d record(s) could not be written before shutdown", left)
    recorder.stop()
    state.mailbox.stop_local()
    if state.listener is not None:
        state.listener.stop()
    reporter = state.reporter
    reporter.stop()
    try:  # the connections closed before shutdown: take them off the list now, not in 15 s
        await asyncio.wait_for(reporter.flush(), SHUTDOWN_FLUSH_SECONDS)
    except Exception:  # noqa: BLE001 - shutting down either way
        log.exception("live connections report at shutdown failed")
    state.heartbeat.stop()
    state.store.stop()
    await state.sources.close()
    await state.link.close()
    if state.tracing is not None:  # the spans still queued, exported before the process ends
        await asyncio.to_thread(state.tracing.shutdown)
