"""limit-concurrency: at most N open connections per key at once (shared through Redis)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from .context import HandshakeContext, Refusal
from .expressions import Value, evaluate
from .model import Attrs, Policy, Step, children, set_attr, set_value_attr
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


@dataclass(frozen=True, kw_only=True)
class LimitConcurrency(Policy):
    """Hold one of `max_count` slots for `key` for the connection's whole life.

    The slot's release is appended to `ctx.release_callbacks`; the gateway runs
    `ctx.release()` when the connection closes (or is refused later in the pipeline, which the
    pipeline does itself). Slots are shared by every worker and node when counters live in
    Redis (leases that expire, see `redis_slots`), else counted in this process.
    """

    tag: ClassVar[str] = "limit-concurrency"
    key: Value
    max_count: int

    @classmethod
    def parse(cls, node: Node) -> LimitConcurrency:
        a = Attrs(node)
        key = a.value("key", required=True)
        max_count = a.integer("max-count", required=True)
        a.done()
        if node.children:
            raise node.children[0].error(
                "child policies are not supported inside <limit-concurrency> on onHandshake; "
                "the limit covers the connection's lifetime"
            )
        children(node, ())
        return cls(key=key or "", max_count=max_count or 1, line=node.line)

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_value_attr(el, "key", self.key)
        set_attr(el, "max-count", self.max_count)
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        key_value, max_count = self.key, self.max_count
        refusal = Refusal(429, "Too many concurrent connections.", {"Retry-After": "1"})

        async def step(ctx: HandshakeContext) -> Refusal | None:
            key = runtime.counter_key("conc", evaluate(key_value, ctx))
            release = await runtime.take_slot(key, max_count)
            if release is None:
                return refusal
            ctx.release_callbacks.append(release)
            return None

        return step
