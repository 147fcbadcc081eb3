"""rate-limit(-by-key) and quota(-by-key): handshake counters kept with the `limits` library."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from limits import RateLimitItemPerSecond

from .context import HandshakeContext, Refusal
from .expressions import Value, evaluate
from .model import Attrs, Policy, Step, children, set_attr, set_value_attr
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime


def subscription_counter(prefix: str, scope: str, ctx: HandshakeContext) -> str:
    """The counter of a rate-limit or quota: per subscription, and per the scope it was set at.

    At product scope one counter per subscription covers all of the product's APIs (Azure's
    product limit; only that product's subscribers run its policy). At API and All APIs scope
    each API counts on its own, so two APIs with the same numbers never share a counter.
    Handshakes without a subscription share one "anonymous" counter per API.
    """
    subscription = ctx.subscription_id or "anonymous"
    if scope == "product":
        return f"{prefix}:product:{ctx.product_id or ''}:{subscription}"
    where = "global" if scope == "global" else "api"
    return f"{prefix}:{where}:{ctx.api_id}:{subscription}"


def _unsupported(a: Attrs, *names: str) -> None:
    for name in names:
        if name in a.node.attrib:
            raise a.node.error("is not supported on onHandshake", name)


@dataclass(frozen=True, kw_only=True)
class RateLimit(Policy):
    """At most `calls` handshakes per `renewal_period` seconds per subscription (sliding window),
    counted per API, or per product at product scope (see `subscription_counter`).
    """

    tag: ClassVar[str] = "rate-limit"
    calls: int
    renewal_period: int
    retry_after_header_name: str | None = None
    retry_after_variable_name: str | None = None
    remaining_calls_variable_name: str | None = None
    scope: str = field(default="api", compare=False, repr=False)

    @classmethod
    def _common(cls, node: Node) -> tuple[Attrs, dict[str, object]]:
        a = Attrs(node)
        _unsupported(a, "increment-condition", "first-period-start", "bandwidth")
        kw: dict[str, object] = {
            "calls": a.integer("calls", required=True),
            "renewal_period": a.integer("renewal-period", required=True),
            "line": node.line,
        }
        children(node, ())
        return a, kw

    @classmethod
    def parse(cls, node: Node) -> RateLimit:
        a, kw = cls._common(node)
        kw["retry_after_header_name"] = a.text("retry-after-header-name")
        kw["retry_after_variable_name"] = a.text("retry-after-variable-name")
        kw["remaining_calls_variable_name"] = a.text("remaining-calls-variable-name")
        if cls is RateLimitByKey:
            kw["counter_key"] = a.value("counter-key", required=True)
            kw["increment_count"] = a.integer("increment-count", 1)
        a.done()
        return cls(**kw)  # type: ignore[arg-type]

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "calls", self.calls)
        set_attr(el, "renewal-period", self.renewal_period)
        if isinstance(self, RateLimitByKey):
            set_value_attr(el, "counter-key", self.counter_key)
            if self.increment_count != 1:
                set_attr(el, "increment-count", self.increment_count)
        set_attr(el, "retry-after-header-name", self.retry_after_header_name)
        set_attr(el, "retry-after-variable-name", self.retry_after_variable_name)
        set_attr(el, "remaining-calls-variable-name", self.remaining_calls_variable_name)
        return el

    def in_scope(self, scope: str) -> RateLimit:
        return dataclasses.replace(self, scope=scope)

    def _key(self, ctx: HandshakeContext) -> str:
        return subscription_counter("rl", self.scope, ctx)

    def _cost(self) -> int:
        return 1

    def compile(self, runtime: PolicyRuntime) -> Step:
        item = RateLimitItemPerSecond(self.calls, self.renewal_period)
        header = self.retry_after_header_name or "Retry-After"
        retry_var = self.retry_after_variable_name
        remaining_var = self.remaining_calls_variable_name
        cost = self._cost()
        key_of = self._key

        async def step(ctx: HandshakeContext) -> Refusal | None:
            moving, _fixed = runtime.limiters()
            key = runtime.counter_key(key_of(ctx))
            if await moving.hit(item, key, cost=cost):
                if remaining_var:
                    stats = await moving.get_window_stats(item, key)
                    ctx.variables[remaining_var] = stats.remaining
                return None
            stats = await moving.get_window_stats(item, key)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            if retry_var:
                ctx.variables[retry_var] = retry
            if remaining_var:
                ctx.variables[remaining_var] = 0
            return Refusal(
                429,
                f"Rate limit is exceeded. Try again in {retry} seconds.",
                {header: str(retry)},
            )

        return step


@dataclass(frozen=True, kw_only=True)
class RateLimitByKey(RateLimit):
    """At most `calls` handshakes per `renewal_period` seconds per evaluated `counter_key`.

    As in Azure, one counter per key value whatever the scope or API that sets the policy."""

    tag: ClassVar[str] = "rate-limit-by-key"
    counter_key: Value
    increment_count: int = 1

    def _key(self, ctx: HandshakeContext) -> str:
        return "rlk:" + evaluate(self.counter_key, ctx)

    def _cost(self) -> int:
        return self.increment_count


@dataclass(frozen=True, kw_only=True)
class Quota(Policy):
    """At most `calls` handshakes per `renewal_period` seconds per subscription (fixed window),
    counted per API, or per product at product scope (see `subscription_counter`)."""

    tag: ClassVar[str] = "quota"
    calls: int
    renewal_period: int
    scope: str = field(default="api", compare=False, repr=False)

    @classmethod
    def parse(cls, node: Node) -> Quota:
        a = Attrs(node)
        _unsupported(a, "bandwidth", "increment-condition", "first-period-start")
        kw: dict[str, object] = {
            "calls": a.integer("calls", required=True),
            "renewal_period": a.integer("renewal-period", required=True),
            "line": node.line,
        }
        if cls is QuotaByKey:
            kw["counter_key"] = a.value("counter-key", required=True)
        a.done()
        children(node, ())
        return cls(**kw)  # type: ignore[arg-type]

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "calls", self.calls)
        set_attr(el, "renewal-period", self.renewal_period)
        if isinstance(self, QuotaByKey):
            set_value_attr(el, "counter-key", self.counter_key)
        return el

    def in_scope(self, scope: str) -> Quota:
        return dataclasses.replace(self, scope=scope)

    def _key(self, ctx: HandshakeContext) -> str:
        return subscription_counter("q", self.scope, ctx)

    def compile(self, runtime: PolicyRuntime) -> Step:
        item = RateLimitItemPerSecond(self.calls, self.renewal_period)
        key_of = self._key

        async def step(ctx: HandshakeContext) -> Refusal | None:
            _moving, fixed = runtime.limiters()
            key = runtime.counter_key(key_of(ctx))
            if await fixed.hit(item, key):
                return None
            stats = await fixed.get_window_stats(item, key)
            left = max(1, math.ceil(stats.reset_time - time.time()))
            h, rest = divmod(left, 3600)
            m, s = divmod(rest, 60)
            return Refusal(
                403,
                f"Out of call volume quota. Quota will be replenished in {h:02d}:{m:02d}:{s:02d}.",
                {"Retry-After": str(left)},
            )

        return step


@dataclass(frozen=True, kw_only=True)
class QuotaByKey(Quota):
    """At most `calls` handshakes per `renewal_period` seconds per evaluated `counter_key`."""

    tag: ClassVar[str] = "quota-by-key"
    counter_key: Value

    def _key(self, ctx: HandshakeContext) -> str:
        return "qk:" + evaluate(self.counter_key, ctx)
