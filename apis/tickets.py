"""Connect tickets on the control plane: mint one for a subscription and build its URL.

The ticket format (sign, verify) is the contract's, in `gateway.catalog.tickets`; it is
re-exported here for callers.
"""

from dataclasses import dataclass

from gateway.catalog.tickets import (
    MAX_LIFETIME_SECONDS,
    PREFIX,
    QUERY_PARAM,
    Ticket,
    TicketError,
    mint,
    verify,
)

__all__ = [
    "MAX_LIFETIME_SECONDS",
    "PREFIX",
    "QUERY_PARAM",
    "Ticket",
    "TicketError",
    "mint",
    "verify",
]


@dataclass(frozen=True, slots=True)
class Issued:
    """A minted ticket with what the caller needs to build its URL."""

    text: str
    ticket: Ticket
    url_suffix: str
    url_scheme: str  # the API's: ws, wss or both
    gateway: str


class CannotIssue(Exception):
    """Why no ticket can be minted (unknown API, subscription not usable, not on the gateway)."""


def issue(
    subscription,
    *,
    api_name: str,
    origin: str = "",
    gateway_name: str = "",
    lifetime: float = MAX_LIFETIME_SECONDS,
) -> Issued:
    """Mint a ticket for `subscription` to connect once to the API named `api_name`.

    The gateway is `gateway_name`, or else the built-in managed one when it serves the API, or
    else the API's first gateway by name; the ticket is signed for that gateway only."""
    from apis.models import Api, Subscription

    api = Api.objects.filter(name=api_name).prefetch_related("gateways", "products").first()
    if api is None:
        raise CannotIssue(f"No API named {api_name!r}.")
    if subscription.state != Subscription.State.ACTIVE:
        raise CannotIssue(f"The subscription is {subscription.state}, not active.")
    covered = (
        subscription.scope == Subscription.Scope.ALL_APIS
        or (subscription.scope == Subscription.Scope.API and subscription.api_id == api.id)
        or (
            subscription.scope == Subscription.Scope.PRODUCT
            and any(p.id == subscription.product_id for p in api.products.all())
        )
    )
    if not covered:
        raise CannotIssue(f"The subscription does not cover the API {api_name!r}.")
    gateways = sorted(api.gateways.all(), key=lambda g: (not g.is_builtin, g.name))
    if gateway_name:
        gateways = [g for g in gateways if g.name == gateway_name]
    if not gateways:
        where = f"on gateway {gateway_name!r}" if gateway_name else "on any gateway"
        raise CannotIssue(f"The API {api_name!r} is not served {where}.")
    gateway = gateways[0]
    text, ticket = mint(
        gateway.key_hash_secret,
        subscription_id=subscription.pk,
        api_id=api.pk,
        origin=origin,
        lifetime=lifetime,
    )
    return Issued(text, ticket, api.url_suffix, api.url_scheme, gateway.name)


def ticket_url(issued: Issued, *, host: str, secure: bool) -> str:
    """`ws(s)://host/<suffix>?ticket=…`, the request's own scheme when the API accepts both."""
    scheme = {"ws": "ws", "wss": "wss"}.get(issued.url_scheme, "wss" if secure else "ws")
    return f"{scheme}://{host}/{issued.url_suffix}?{QUERY_PARAM}={issued.text}"
