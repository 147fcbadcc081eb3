"""From a client's handshake to an open backend leg: route, key, policies, backend connect.

Shared by the gateway consumer and the probe, so both answer a handshake the same way. The
`attempt` hears each step (telemetry); anything refused raises `Refusal`, having released
what the policies held.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage

from gateway import tickets
from gateway.backend import open_backend
from gateway.backend_leg import BackendLeg
from gateway.caps import hold_connection_slot
from gateway.handshake import Handshake, start_handshake
from gateway.pipeline import run_policies
from gateway.policies import HandshakeContext
from gateway.policies.clientaddr import parse_networks
from gateway.policies.message_pipeline import ConnectionMessages
from gateway.refusal import Refusal
from gateway.relay import TUNNEL_EXTENSION
from gateway.store import CatalogUnavailable, get_store

_TRUSTED_PROXIES = parse_networks(settings.PORTICO_TRUSTED_PROXIES)
# The portal's own cookies reach the gateway's host; they are never forwarded to a backend.
_OWN_COOKIES = frozenset(
    {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, CookieStorage.cookie_name}
)


@dataclass(slots=True)
class OpenedConnection:
    handshake: Handshake
    backend: BackendLeg
    policy_ctx: HandshakeContext | None
    messages: ConnectionMessages | None = None  # this connection's onMessage checks
    cap_slot: Callable[[], None] | None = None  # its slot under the subscription's cap
    tunnel: bool = False  # the backend leg was opened for a tunnel (gateway.relay_tunnel)
    # What a tunnel enforces of the onMessage policies: (inbound, outbound) HeaderPlans.
    plans: tuple = (None, None)

    def release(self) -> None:
        """Free what the policies and the cap hold for this connection (concurrency slots)."""
        if self.policy_ctx is not None:
            self.policy_ctx.release()
        if self.cap_slot is not None:
            self.cap_slot()


class NoRecord:
    """An attempt that records nothing (the probe must not count as a connection)."""

    def saw(self, snapshot) -> None: ...
    def identify(self, handshake) -> None: ...
    def backend_connecting(self) -> None: ...
    def backend_connected(self) -> None: ...


async def open_connection(scope: dict, *, correlation_id: str, attempt) -> OpenedConnection:
    policy_ctx = None
    messages = None
    plans = None  # (inbound, outbound) HeaderPlans when frame headers suffice for every policy
    cap_slot = None
    try:
        try:
            snapshot = await get_store().current()
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
            trusted_proxies=_TRUSTED_PROXIES,
            own_cookies=_OWN_COOKIES,
        )
        attempt.identify(handshake)
        if handshake.ticket is not None:
            await tickets.spend(handshake.ticket)
        if handshake.route.connection_caps:  # most APIs have none: skip the call
            cap_slot = await hold_connection_slot(handshake)
        route = handshake.route
        pipeline = route.pipeline_for(handshake.subscription)
        if pipeline is not None:
            policy_ctx = await run_policies(
                pipeline,
                handshake=handshake,
                raw_headers=scope.get("headers") or [],
                product_names=product_names(snapshot, handshake),
            )
            compiled = getattr(pipeline, "messages", None)
            if compiled is not None:
                messages = compiled.start(policy_ctx)  # also what a framed fallback runs
                plans = compiled.header_only
        attempt.backend_connecting()
        # A tunnel reads no payloads: only connections whose onMessage policies need none, and
        # only where the server can hand its transport over (uvicorn with our protocol).
        tunnel = (
            settings.PORTICO_RELAY_MODE == "auto"
            and (messages is None or plans is not None)
            and TUNNEL_EXTENSION in (scope.get("extensions") or {})
        )
        backend = await open_backend(
            handshake.backend,
            connect_timeout=settings.PORTICO_BACKEND_CONNECT_TIMEOUT,
            max_size=route.api.max_message_bytes,
            keepalive=settings.PORTICO_KEEPALIVE_SECONDS or None,
            tunnel=tunnel,
        )
        attempt.backend_connected()
    except BaseException:
        if policy_ctx is not None:
            policy_ctx.release()
        if cap_slot is not None:
            cap_slot()
        raise
    return OpenedConnection(
        handshake, backend, policy_ctx, messages, cap_slot, tunnel, plans or (None, None)
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
