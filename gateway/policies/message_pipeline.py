"""The onMessage policies of one effective document, compiled once, started per connection."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from .context import HandshakeContext
from .messages import (
    TOO_BIG,
    CheckFactory,
    LimitMessageSize,
    MessagePolicy,
    RateLimitMessages,
    Verdict,
)
from .model import Base, Policy

DIRECTIONS = ("inbound", "outbound")  # client -> backend, backend -> client


class ConnectionMessages:
    """One connection's message checks: `inbound`/`outbound` are None when that direction has no
    policies (the relay then keeps its plain loop for it), else `await check(payload, size)`.

    `logged` counts messages a `log` action let through; `first_logged` says why the first one
    failed (kept for the connection's log, never logged per message). `samples` holds what
    log-messages kept, for the connection's log record.
    """

    __slots__ = ("inbound", "outbound", "logged", "first_logged", "samples")

    def __init__(self) -> None:
        self.inbound = None
        self.outbound = None
        self.logged = 0
        self.first_logged = ""
        self.samples: list[dict] = []  # log-messages' sample, bounded by the policy

    def _note(self, verdict: Verdict) -> None:
        self.logged += 1
        if not self.first_logged:
            self.first_logged = verdict.reason

    def _chain(self, factories: tuple[CheckFactory, ...], ctx: HandshakeContext):
        steps = []
        for factory in factories:
            check = factory(ctx, self)
            steps.append((check, asyncio.iscoroutinefunction(check)))
        pairs = tuple(steps)
        note = self._note

        async def run(payload, size) -> Verdict | None:
            for check, is_async in pairs:
                verdict = check(payload, size)
                if is_async:
                    verdict = await verdict
                if verdict is not None:
                    if verdict.action == "log":
                        note(verdict)
                        continue
                    return verdict
            return None

        return run


NO_LIMIT = sys.maxsize


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """One direction's onMessage policies where a message's size and count decide everything
    (limit-message-size, per-connection rate-limit-messages): what a tunnel, which reads only
    frame headers, enforces in their place with the same verdicts.

    The policies run in order, so a message over `before` (the limits ahead of the rate limit)
    is too big whatever the rate; one over `after` only if the rate limit let it pass.
    """

    before: int = NO_LIMIT
    after: int = NO_LIMIT
    calls: int = 0  # the rate limit, if `over` is set: messages per `period` seconds
    period: float = 0.0
    over: Verdict | None = None  # its verdict (drop, or close with its reason); None: no limit
    too_big: Verdict = TOO_BIG


def header_plan(policies: tuple[MessagePolicy, ...]) -> HeaderPlan | None | bool:
    """The plan for one direction's compiled policies; None without any, False when some policy
    needs the payload (or a shared counter, a condition, a second rate limit)."""
    if not policies:
        return None
    before = after = NO_LIMIT
    rate = None
    for policy in policies:
        if type(policy) is LimitMessageSize:
            if rate is None:
                before = min(before, policy.max_bytes)
            else:
                after = min(after, policy.max_bytes)
        elif type(policy) is RateLimitMessages and policy.counter_key is None and rate is None:
            rate = policy
        else:
            return False
    if rate is None:
        return HeaderPlan(before=before)
    return HeaderPlan(before, after, rate.calls, float(rate.renewal_period), rate.over())


@dataclass(frozen=True, slots=True)
class MessagePipeline:
    """Per-direction check factories; `start(ctx)` makes one connection's checks.

    `header_only` holds the (inbound, outbound) plans when both directions can do without
    payloads: such a connection may be tunnelled (gateway.relay.tunnel) instead.
    """

    inbound: tuple[CheckFactory, ...]
    outbound: tuple[CheckFactory, ...]
    header_only: tuple[HeaderPlan | None, HeaderPlan | None] | None = None

    def start(self, ctx: HandshakeContext | None) -> ConnectionMessages:
        ctx = ctx if ctx is not None else HandshakeContext()
        conn = ConnectionMessages()
        if self.inbound:
            conn.inbound = conn._chain(self.inbound, ctx)
        if self.outbound:
            conn.outbound = conn._chain(self.outbound, ctx)
        return conn


def compile_messages(
    inbound: tuple[Policy, ...], outbound: tuple[Policy, ...], runtime, schemas: dict | None
) -> MessagePipeline | None:
    """None when neither direction has a policy (the relay's plain loops stay as they are).

    `schemas` is {"send": [...], "receive": [...]} from the API's AsyncAPI contract, or None
    when it has none.
    """
    found = schemas if schemas is not None else {}

    def own(policies: tuple[Policy, ...]) -> tuple[MessagePolicy, ...]:
        return tuple(
            p for p in policies if isinstance(p, MessagePolicy) and not isinstance(p, Base)
        )

    def build(policies: tuple[MessagePolicy, ...], direction: str) -> tuple[CheckFactory, ...]:
        return tuple(p.compile_message(runtime, direction, found) for p in policies)

    inbound, outbound = own(inbound), own(outbound)
    if not inbound and not outbound:
        return None
    plans = (header_plan(inbound), header_plan(outbound))
    return MessagePipeline(
        build(inbound, "inbound"),
        build(outbound, "outbound"),
        None if plans[0] is False or plans[1] is False else plans,
    )
