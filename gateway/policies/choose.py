"""choose/when/otherwise: run the policies of the first branch whose condition is true."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from .conditions import Condition, MessageView
from .counters import CountersUnavailable
from .messages import CheckFactory, MessagePolicy
from .model import Policy, Step

if TYPE_CHECKING:
    from .context import HandshakeContext, Refusal
    from .runtime import PolicyRuntime


@dataclass(frozen=True)
class When:
    """One `<when condition="@(...)">` branch and its policies."""

    condition: Condition
    policies: tuple[Policy, ...]
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Choose(MessagePolicy):
    """`<choose>`: the first `<when>` whose condition holds runs; else `<otherwise>` (if any).

    The same element works in onHandshake `<inbound>` (branches hold handshake policies) and in
    `<on-message>` (branches hold message policies; conditions may read `context.Message`).
    Parsing lives in document.py, which knows which policies each section takes.
    """

    tag: ClassVar[str] = "choose"
    whens: tuple[When, ...]
    otherwise: tuple[Policy, ...] | None = None

    def to_element(self) -> Element:
        el = Element(self.tag)
        for w in self.whens:
            branch = Element("when", {"condition": w.condition.source})
            branch.extend(p.to_element() for p in w.policies)
            el.append(branch)
        if self.otherwise is not None:
            branch = Element("otherwise")
            branch.extend(p.to_element() for p in self.otherwise)
            el.append(branch)
        return el

    def in_scope(self, scope: str) -> Choose:
        return self  # the branches' policies were put in scope when they were parsed

    def _branches(self):
        out = [(w.condition, w.policies) for w in self.whens]
        if self.otherwise is not None:
            out.append((None, self.otherwise))
        return out

    def compile(self, runtime: PolicyRuntime) -> Step:
        branches = tuple(
            (cond, tuple(p.compile(runtime) for p in policies))
            for cond, policies in self._branches()
        )
        unavailable = runtime.counters_unavailable

        async def step(ctx: HandshakeContext) -> Refusal | None:
            for cond, steps in branches:
                if cond is None or cond.test(ctx):
                    for inner in steps:
                        try:
                            refusal = await inner(ctx)
                        except CountersUnavailable as exc:
                            refusal = unavailable(exc)  # as the pipeline does for a top step
                        if refusal is not None:
                            return refusal
                    return None
            return None

        return step

    def compile_message(self, runtime, direction, schemas) -> CheckFactory:
        branches = tuple(
            (
                cond,
                tuple(
                    p.compile_message(runtime, direction, schemas)
                    for p in policies
                    if isinstance(p, MessagePolicy)
                ),
            )
            for cond, policies in self._branches()
        )

        def factory(ctx, conn):
            # Each branch's checks are made once per connection (per-connection counters).
            chosen = tuple((cond, tuple(f(ctx, conn) for f in facs)) for cond, facs in branches)
            note = conn._note

            def pick(payload, size):
                view = MessageView(payload, size)
                for cond, checks in chosen:
                    if cond is None or cond.test(ctx, view):
                        return checks
                return ()

            if not any(asyncio.iscoroutinefunction(c) for _, cs in chosen for c in cs):

                def check(payload, size):  # all branches synchronous: no await per message
                    for inner in pick(payload, size):
                        verdict = inner(payload, size)
                        if verdict is not None:
                            if verdict.action == "log":
                                note(verdict)
                                continue
                            return verdict
                    return None

                return check

            async def check_async(payload, size):
                for inner in pick(payload, size):
                    verdict = inner(payload, size)
                    if asyncio.iscoroutine(verdict):
                        verdict = await verdict
                    if verdict is not None:
                        if verdict.action == "log":
                            note(verdict)
                            continue
                        return verdict
                return None

            return check_async

        return factory
