"""Opening an event-source connection at the handshake: the name, its patterns, the resume id.

The `subscribe` name is a literal or an `@(...)` expression evaluated with the handshake's
policy context; an evaluated name outside the API's `allow` patterns refuses the handshake with
403. The client's last id comes from the `Last-Event-ID` header or the `last-event-id` query
parameter (400 when the broker's ids never look like it). A broker that cannot be subscribed to
answers 502 (504 when it does not answer in time), with a JSON reason like any backend; one that
refuses the gateway's credentials answers 502 saying so, without them.
"""

from functools import lru_cache

from gateway.catalog.eventsource import concrete_name, is_expression, name_allowed
from gateway.policies.conditions import parse_text_expression
from gateway.policies.errors import PolicyError
from gateway.refusal import Refusal
from gateway.sources.credentials import CredentialsMissing, broker_address
from gateway.sources.events import BadEventId, BrokerUnavailable
from gateway.sources.leg import SourceLeg

LAST_EVENT_ID_HEADER = "last-event-id"
LAST_EVENT_ID_QUERY = "last-event-id"


@lru_cache(maxsize=256)
def _compiled(expression: str):
    """The compiled expression (the catalog checked it; a bad one fails closed as 500)."""
    return parse_text_expression(expression)


def subscribed_name(kind: str, source, ctx) -> str:
    """The name this handshake subscribes to, or raise Refusal (403 outside `allow`)."""
    if not is_expression(source.subscribe):
        return source.subscribe
    try:
        name = _compiled(source.subscribe).evaluate(ctx)
    except PolicyError:
        raise Refusal(
            500, "The API's event source could not be evaluated.", reason="bad subscribe"
        ) from None
    problem = concrete_name(kind, name)
    if problem is None and not name_allowed(kind, name, source.allow):
        problem = "the subscribed name is outside the API's allowed patterns"
    if problem is not None:
        raise Refusal(403, "This subscription is not allowed.", reason=problem)
    return name


def last_event_id(headers: dict[str, str], query: list[tuple[str, str]]) -> str | None:
    """The client's last id: the header wins over the query parameter; blank means none."""
    value = headers.get(LAST_EVENT_ID_HEADER)
    if value is None:
        value = next((v for k, v in query if k == LAST_EVENT_ID_QUERY), None)
    value = (value or "").strip()
    return value or None


async def open_source(hub, route, handshake, ctx, *, kind: str) -> SourceLeg:
    """Subscribe this connection (through the process's shared feed) or raise Refusal."""
    source = route.api.source
    name = subscribed_name(kind, source, ctx)
    try:
        address = broker_address(route.backend_url, route.api.backend_secrets)
    except CredentialsMissing as exc:
        raise Refusal(
            502,
            "The event source's credentials are not available.",
            reason=f"event source credentials: {exc}",
        ) from None
    broker = hub.broker(address)
    resume_after = None
    resume = last_event_id(handshake.headers, handshake.query)
    if resume is not None and broker.resumable:
        try:
            resume_after = broker.parse_id(resume)
        except BadEventId as exc:
            raise Refusal(400, f"Last-Event-ID: {exc}", reason="bad last event id") from None
    leg = SourceLeg(broker, name, source, resume_after=resume_after)
    try:
        leg.feed = await hub.join(address, name, leg)
    except BrokerUnavailable as exc:
        if exc.auth:  # the publisher's to fix: no Retry-After
            raise Refusal(
                502,
                "The event source refused the gateway's credentials.",
                reason=f"event source refused the credentials: {exc}",
            ) from None
        if exc.timeout:
            raise Refusal(
                504, "The event source did not answer in time.", reason=f"event source: {exc}"
            ) from None
        raise Refusal(
            502,
            "The event source is unreachable.",
            reason=f"event source unreachable: {exc}",
            headers={"Retry-After": "1"},
        ) from None
    return leg
