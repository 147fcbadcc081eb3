"""From a client's handshake to an open backend leg: route, key, policies, backend connect.

Shared by the gateway consumer and the probe, so both answer a handshake the same way. The
`attempt` hears each step (telemetry); anything refused raises `Refusal`, having released
what the policies held.
"""

import ssl
from collections.abc import Callable
from dataclasses import dataclass

from gateway.backend.leg import BackendLeg
from gateway.backend.open import open_backend
from gateway.catalog.store import CatalogUnavailable
from gateway.handshake import tickets
from gateway.handshake.caps import hold_connection_slot
from gateway.handshake.policies import handshake_context, run_policies
from gateway.handshake.request import Handshake, start_handshake
from gateway.policies import HandshakeContext
from gateway.policies.message_pipeline import ConnectionMessages
from gateway.refusal import Refusal
from gateway.relay.mode import tunnel_plans
from gateway.sources.open import open_source


@dataclass(slots=True)
class OpenedConnection:
    handshake: Handshake
    backend: BackendLeg  # or an event source's SourceLeg (gateway.sources.leg)
    policy_ctx: HandshakeContext | None
    messages: ConnectionMessages | None = None  # this connection's onMessage checks
    cap_slot: Callable[[], None] | None = None  # its slot under the subscription's cap
    tunnel: bool = False  # the backend leg was opened for a tunnel (gateway.relay.tunnel)
    # What a tunnel enforces of the onMessage policies: (inbound, outbound) HeaderPlans.
    plans: tuple = (None, None)
    snapshot: object = None  # the catalog snapshot the handshake was checked against

    def release(self) -> None:
        """Free what the policies and the cap hold for this connection (concurrency slots)."""
        if self.policy_ctx is not None:
            self.policy_ctx.release()
        if self.cap_slot is not None:
            self.cap_slot()


class NoRecord:
    """An attempt that records nothing (the probe must not count as a connection)."""

    decisions = None  # the policies' outcomes are heard only by a traced attempt

    def saw(self, snapshot) -> None: ...
    def identify(self, handshake) -> None: ...
    def backend_connecting(self) -> None: ...
    def backend_connected(self) -> None: ...


def backend_tls(snapshot, route, policy_ctx):
    """The backend's TLS context: with the client certificate authentication-certificate
    chose, if any; 502 when this gateway does not hold that certificate."""
    name = policy_ctx.backend_certificate if policy_ctx is not None else None
    try:
        return snapshot.backend_tls(route, name)
    except KeyError:
        raise Refusal(
            502,
            "The gateway cannot present the backend's client certificate.",
            reason=f"authentication-certificate: no certificate {name!r} with a key",
        ) from None
    except (ssl.SSLError, OSError) as exc:
        raise Refusal(
            502,
            "The gateway cannot present the backend's client certificate.",
            reason=f"authentication-certificate {name!r} does not load: {type(exc).__name__}",
        ) from None


async def open_connection(state, scope: dict, *, correlation_id: str, attempt) -> OpenedConnection:
    """`state` is the process's GatewayState (gateway.state): config, store, counters."""
    config = state.config
    policy_ctx = None
    messages = None
    compiled = None  # the route's compiled onMessage policies (a MessagePipeline), if any
    cap_slot = None
    try:
        # Loaded (every handshake but a process's first): no coroutine to await for it.
        snapshot = state.store.snapshot
        try:
            if snapshot is None:
                snapshot = await state.store.current()
        except CatalogUnavailable as exc:
            raise Refusal(
                503,
                "The gateway has not loaded its catalog yet. Try again shortly.",
                reason=f"no catalog: {exc}",
                headers={"Retry-After": "1"},
            ) from None
        attempt.saw(snapshot)
        handshake = start_handshake(
            snapshot,
            scope,
            correlation_id=correlation_id,
            trusted_proxies=state.trusted_proxies,
            own_cookies=config.portal_cookie_names,
        )
        attempt.identify(handshake)
        if handshake.ticket is not None:
            await tickets.spend(state.marks, handshake.ticket)
        if handshake.route.connection_caps:  # most APIs have none: skip the call
            cap_slot = await hold_connection_slot(state.runtime, handshake)
        route = handshake.route
        pipeline = route.pipeline_for(handshake.subscription)
        if pipeline is not None:
            policy_ctx = await run_policies(
                pipeline,
                handshake=handshake,
                raw_headers=scope.get("headers") or [],
                product_names=product_names(snapshot, handshake),
                decisions=attempt.decisions,
            )
            compiled = getattr(pipeline, "messages", None)
            if compiled is not None:
                messages = compiled.start(policy_ctx)  # also what a framed fallback runs
        attempt.backend_connecting()
        if route.source_kind is not None:  # an event source: always the framed relay
            plans, tunnel = None, False
            if policy_ctx is None:
                names = product_names(snapshot, handshake)
                policy_ctx = handshake_context(handshake, raw_headers=(), product_names=names)
            backend = await open_source(
                state.sources, route, handshake, policy_ctx, kind=route.source_kind
            )
        else:
            plans = tunnel_plans(config.relay_mode, scope, compiled)  # the one relay-mode choice
            tunnel = plans is not None
            backend = await open_backend(
                handshake.backend,
                connect_timeout=config.backend_connect_timeout,
                max_size=route.api.max_message_bytes,
                keepalive=config.keepalive_seconds or None,
                tunnel=tunnel,
                tls=backend_tls(snapshot, route, policy_ctx),
            )
        attempt.backend_connected()
    except BaseException:
        if policy_ctx is not None:
            policy_ctx.release()
        if cap_slot is not None:
            cap_slot()
        raise
    return OpenedConnection(
        handshake, backend, policy_ctx, messages, cap_slot, tunnel, plans or (None, None), snapshot
    )


def product_names(snapshot, handshake) -> list[str]:
    """The subscription's product, else every product that contains the API."""
    subscription = handshake.subscription
    if subscription is not None and subscription.product_id is not None:
        return [snapshot.product_names.get(subscription.product_id, "")]
    return [
        snapshot.product_names[p]
        for p in sorted(handshake.route.product_ids)
        if p in snapshot.product_names
    ]
