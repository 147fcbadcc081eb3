"""The onMessage policies of one effective document, compiled once, started per connection."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .context import HandshakeContext
from .messages import CheckFactory, MessagePolicy, Verdict
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


@dataclass(frozen=True, slots=True)
class MessagePipeline:
    """Per-direction check factories; `start(ctx)` makes one connection's checks."""

    inbound: tuple[CheckFactory, ...]
    outbound: tuple[CheckFactory, ...]

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

    def build(policies: tuple[Policy, ...], direction: str) -> tuple[CheckFactory, ...]:
        return tuple(
            p.compile_message(runtime, direction, found)
            for p in policies
            if isinstance(p, MessagePolicy) and not isinstance(p, Base)
        )

    pipeline = MessagePipeline(build(inbound, "inbound"), build(outbound, "outbound"))
    if not pipeline.inbound and not pipeline.outbound:
        return None
    return pipeline
