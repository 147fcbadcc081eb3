"""onMessage policies: limit-message-size, rate-limit-messages and validate-message.

Each policy compiles once per snapshot into a factory; the factory makes a small per-connection
check (`MessageCheck`) when a connection opens. A check returns None to pass the message, or a
`Verdict` (drop it, or close both sides with the given codes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from xml.etree.ElementTree import Element, SubElement

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError
from limits import RateLimitItemPerSecond

from .context import HandshakeContext
from .counters import CountersUnavailable
from .errors import PolicyError
from .expressions import Value, evaluate
from .jsonschemas import compile_check, schema_problem
from .model import Attrs, Policy, children, set_attr, set_value_attr
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime

POLICY_VIOLATION = 1008
INVALID_DATA = 1007
MESSAGE_TOO_BIG = 1009
GOING_AWAY = 1001
INTERNAL_ERROR = 1011
MAX_REASON = 120  # a close reason is at most 123 bytes; keep room for multi-byte characters


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happens to a message a policy stops: dropped, or both sides closed.

    `sender_code` goes to the side that sent the message, `other_code` to the other side.
    """

    action: str  # "drop" or "close"
    reason: str = ""
    sender_code: int = POLICY_VIOLATION
    other_code: int = GOING_AWAY


DROP = Verdict("drop")
TOO_BIG = Verdict("close", "message too big", MESSAGE_TOO_BIG, GOING_AWAY)  # limit-message-size

# check(payload, size) -> Verdict | None; async ones are awaited (shared counters).
MessageCheck = Callable[[Any, int], "Verdict | None | Awaitable[Verdict | None]"]
# Made once per connection from the handshake's context (counter keys are evaluated there) and
# the connection's ConnectionMessages (log-messages keeps its samples there).
CheckFactory = Callable[[HandshakeContext, Any], MessageCheck]


def truncate(text: str, limit: int = MAX_REASON) -> str:
    """A close reason that fits a close frame (123 bytes) whatever the characters."""
    out = text if len(text) <= limit else text[: limit - 1] + "…"
    while len(out.encode()) > 123:
        out = out[:-2] + "…"
    return out


class MessagePolicy(Policy):
    """A policy that runs on every message of one direction ("inbound" or "outbound")."""

    def compile_message(
        self, runtime: PolicyRuntime, direction: str, schemas: dict
    ) -> CheckFactory:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class LimitMessageSize(MessagePolicy):
    """Messages over `max_bytes` (UTF-8 bytes for text): the sender gets 1009, the other 1001."""

    tag: ClassVar[str] = "limit-message-size"
    max_bytes: int

    @classmethod
    def parse(cls, node: Node) -> LimitMessageSize:
        a = Attrs(node)
        kw = {"max_bytes": a.integer("max-bytes", required=True), "line": node.line}
        a.done()
        children(node, ())
        return cls(**kw)  # type: ignore[arg-type]

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "max-bytes", self.max_bytes)
        return el

    def compile_message(self, runtime, direction, schemas) -> CheckFactory:
        limit = self.max_bytes
        verdict = TOO_BIG

        def check(payload, size):
            return verdict if size > limit else None

        return lambda ctx, conn: check


@dataclass(frozen=True, kw_only=True)
class RateLimitMessages(MessagePolicy):
    """At most `calls` messages per `renewal_period` seconds (fixed window).

    Per connection in this process by default; with `counter_key`, one counter per key value in
    the same counter storage as the handshake limits (shared by processes and nodes, one await
    per message). Over the limit: `close` (1008 with a reason) or `drop` (the message is
    discarded and counted by the relay).
    """

    tag: ClassVar[str] = "rate-limit-messages"
    calls: int
    renewal_period: int
    action: str = "close"
    counter_key: Value | None = None

    @classmethod
    def parse(cls, node: Node) -> RateLimitMessages:
        a = Attrs(node)
        kw = {
            "calls": a.integer("calls", required=True),
            "renewal_period": a.integer("renewal-period", required=True),
            "action": a.choice("action", ("close", "drop"), "close"),
            "counter_key": a.value("counter-key"),
            "line": node.line,
        }
        a.done()
        children(node, ())
        return cls(**kw)  # type: ignore[arg-type]

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "calls", self.calls)
        set_attr(el, "renewal-period", self.renewal_period)
        set_value_attr(el, "counter-key", self.counter_key)
        set_attr(el, "action", self.action)
        return el

    def over(self) -> Verdict:
        """What happens to a message over the limit."""
        if self.action == "drop":
            return DROP
        return Verdict(
            "close",
            f"message rate limit exceeded ({self.calls} per {self.renewal_period} s)",
            POLICY_VIOLATION,
            GOING_AWAY,
        )

    def compile_message(self, runtime, direction, schemas) -> CheckFactory:
        calls, period = self.calls, float(self.renewal_period)
        over = self.over()
        if self.counter_key is not None:
            return self._shared(runtime, direction, over)
        monotonic = time.monotonic

        def factory(ctx: HandshakeContext, conn: Any) -> MessageCheck:
            window = [0.0, 0]  # [window end, messages in it]: per connection, no lock needed

            def check(payload, size):
                now = monotonic()
                if now >= window[0]:
                    window[0], window[1] = now + period, 1
                    return None
                window[1] += 1
                return over if window[1] > calls else None

            return check

        return factory

    def _shared(self, runtime: PolicyRuntime, direction: str, over: Verdict) -> CheckFactory:
        item = RateLimitItemPerSecond(self.calls, self.renewal_period)
        counter_key = self.counter_key
        assert counter_key is not None
        unavailable = Verdict("close", "message counters unavailable", INTERNAL_ERROR, GOING_AWAY)

        def factory(ctx: HandshakeContext, conn: Any) -> MessageCheck:
            key = runtime.counter_key("rlm", evaluate(counter_key, ctx))

            async def check(payload, size):
                try:
                    _moving, fixed = runtime.limiters()
                    if await fixed.hit(item, key):
                        return None
                except CountersUnavailable as exc:
                    if runtime.counters_unavailable(exc) is None:
                        return None  # fail open: uncounted
                    return unavailable
                return over

            return check

        return factory


@dataclass(frozen=True, kw_only=True)
class ValidateMessage(MessagePolicy):
    """Text messages must be JSON valid against a JSON Schema (draft 2020-12).

    The schema is inline (`<schema>`) or the API's AsyncAPI messages for this direction
    (`schema-source="asyncapi"`: inbound must match a message the client may send, outbound one
    it may receive). Binary messages pass. A message that fails: `close` (1007 with the first
    error's path), `drop`, or `log` (passed on; the relay notes the first failure).
    """

    tag: ClassVar[str] = "validate-message"
    action: str = "close"
    schema_source: str = "inline"
    schema: str = field(default="", compare=False)  # the inline schema's text, as written
    parsed_schema: Any = None

    @classmethod
    def parse(cls, node: Node) -> ValidateMessage:
        a = Attrs(node)
        action = a.choice("action", ("close", "drop", "log"), "close")
        source = a.choice("schema-source", ("inline", "asyncapi"), "inline")
        a.done()
        kids = children(node, ("schema",))
        if source == "asyncapi":
            if kids:
                raise kids[0].error('no <schema> is allowed with schema-source="asyncapi"')
            return cls(action=action, schema_source=source, line=node.line)
        if len(kids) != 1:
            raise node.error("needs exactly one <schema> (a JSON Schema) or schema-source")
        el = kids[0]
        Attrs(el).done()
        children(el, ())
        try:
            parsed = json.loads(el.text)
        except ValueError as exc:
            raise el.error(f"is not JSON: {exc}", reason="is not JSON") from None
        except RecursionError:
            raise el.error("is not JSON: nested too deeply") from None
        if not isinstance(parsed, dict | bool):
            raise el.error("must be a JSON object (a JSON Schema)")
        problem = schema_problem(parsed)  # first: checking the schema recurses through it
        if problem is not None:
            raise el.error(f"is not allowed: {problem}", reason="is not an allowed JSON Schema")
        try:
            Draft202012Validator.check_schema(parsed)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise el.error(
                f"is not a valid JSON Schema at {where}: {exc.message}",
                reason="is not a valid JSON Schema",
            ) from None
        return cls(
            action=action,
            schema_source=source,
            schema=el.text.strip(),
            parsed_schema=_Frozen(parsed),
            line=node.line,
        )

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "action", self.action)
        if self.schema_source == "asyncapi":
            set_attr(el, "schema-source", "asyncapi")
        else:
            SubElement(el, "schema").text = self.schema
        return el

    def compile_message(self, runtime, direction, schemas) -> CheckFactory:
        if self.schema_source == "asyncapi":
            wanted = schemas.get("send" if direction == "inbound" else "receive")
            if wanted is None:
                raise PolicyError(
                    'validate-message schema-source="asyncapi": the API has no AsyncAPI contract',
                    line=self.line,
                    element=self.tag,
                )
            # AsyncAPI payloads are Draft 7 supersets unless they say otherwise.
            schemas_and_drafts = [(s, Draft7Validator) for s in wanted]
        else:
            schemas_and_drafts = [(self.parsed_schema.value, Draft202012Validator)]
        try:
            validators = [compile_check(s, draft) for s, draft in schemas_and_drafts]
        except PolicyError as exc:  # stored before it was checked: fail closed, never fetch
            source = " of the AsyncAPI contract" if self.schema_source == "asyncapi" else ""
            raise PolicyError(f"{exc.message}{source}", line=self.line, element=self.tag) from None
        action = self.action
        failed = DROP if action == "drop" else None

        def first_error(text: str) -> str | None:
            try:
                doc = json.loads(text)
            except ValueError:
                return "not JSON"
            except RecursionError:
                return "not JSON (nested too deeply)"
            if not validators:
                return "no message of the contract is allowed in this direction"
            best = None
            for validate in validators:
                try:
                    error = validate(doc)
                except RecursionError:
                    error = "$: nested too deeply"
                if error is None:
                    return None
                if best is None:
                    best = error
            return best

        def check(payload, size):
            if type(payload) is not str:
                return None
            problem = first_error(payload)
            if problem is None:
                return None
            if action == "close":
                return Verdict("close", truncate(problem), INVALID_DATA, GOING_AWAY)
            if action == "log":
                return Verdict("log", truncate(problem))
            return failed

        return lambda ctx, conn: check


class _Frozen:
    """Holds a parsed schema inside a frozen dataclass (compared by its text, not by this)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and self.value == other.value

    def __hash__(self) -> int:
        return 0
