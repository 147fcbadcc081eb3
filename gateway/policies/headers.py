"""check-header, set-header and set-query-parameter: read and rewrite the handshake."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

from .context import Change, HandshakeContext, Refusal
from .expressions import Expr, Value, evaluate
from .model import Attrs, Policy, Step, add_values, set_attr, value_children
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime

EXISTS_ACTIONS = ("override", "skip", "append", "delete")
_FIXED_HEADERS = ("host", "connection", "upgrade")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP field name (RFC 9110 §5.1)
# Anything but tab, visible ASCII, space and Latin-1's upper half: line breaks would split the
# header (and the gateway's log line), other characters cannot be sent as ISO-8859-1.
_NOT_IN_A_HEADER = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
# Expressions whose value comes from the client's own request (its headers, its token) or
# from a variable (which may hold either): a bad value there is the client's fault (400).
_CLIENT_KINDS = frozenset({"request.header", "jwt.claim", "jwt.subject", "variable"})
BAD_VALUE = "a line break, a control character or a character outside Latin-1"


def is_header_value(text: str) -> bool:
    return _NOT_IN_A_HEADER.search(text) is None


def bad_header_value(name: str, text: str, source: Value) -> Refusal:
    """Refuse a handshake whose policy would send `text` in header `name`.

    400 when the value came from the client's own data (a header, a JWT claim, a variable),
    502 when it came from configuration (a literal, a subscription or API name, ...). The
    value is logged escaped (ASCII only, so it can forge no log line), never sent back."""
    detail = f"header {name} value {ascii(text)[:200]}"
    if isinstance(source, Expr) and source.kind in _CLIENT_KINDS:
        message = f"The request's data cannot be sent in header {name}: it contains {BAD_VALUE}."
        return Refusal(400, message, detail=detail)
    return Refusal(502, f"The policy produced an invalid header value ({name}).", detail=detail)


def check_header_literals(node: Node, name: str, values: tuple[Value, ...]) -> None:
    """Save time: a header's name must be an HTTP token and its literal values sendable."""
    if not _TOKEN.fullmatch(name):
        raise node.error("must be an HTTP header name (letters, digits, !#$%&'*+.^_`|~-)", "name")
    for value in values:
        if isinstance(value, str) and not is_header_value(value):
            raise node.error(f"a header value cannot contain {BAD_VALUE}")


def is_handshake_header(name: str) -> bool:
    """Headers the WebSocket handshake itself owns; policies may not change them."""
    n = name.lower()
    return n in _FIXED_HEADERS or n.startswith("sec-websocket-")


@dataclass(frozen=True, kw_only=True)
class CheckHeader(Policy):
    """Refuse the handshake unless a request header exists (and has one of the values)."""

    tag: ClassVar[str] = "check-header"
    name: str
    failed_check_httpcode: int = 401
    failed_check_error_message: str = "Header check failed"
    ignore_case: bool = False
    values: tuple[Value, ...] = ()

    @classmethod
    def parse(cls, node: Node) -> CheckHeader:
        a = Attrs(node)
        name = a.text("name", required=True)
        code = a.integer("failed-check-httpcode", 401, minimum=100)
        if code is not None and not 400 <= code <= 599:
            raise node.error("must be an HTTP error status (400-599)", "failed-check-httpcode")
        message = a.text("failed-check-error-message", "Header check failed")
        ignore_case = a.boolean("ignore-case", False)
        a.done()
        return cls(
            name=name or "",
            failed_check_httpcode=code or 401,
            failed_check_error_message=message or "",
            ignore_case=ignore_case,
            values=value_children(node),
            line=node.line,
        )

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "name", self.name)
        set_attr(el, "failed-check-httpcode", self.failed_check_httpcode)
        set_attr(el, "failed-check-error-message", self.failed_check_error_message)
        set_attr(el, "ignore-case", self.ignore_case)
        add_values(el, self.values)
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        refusal = Refusal(self.failed_check_httpcode, self.failed_check_error_message)
        name, values, ignore_case = self.name, self.values, self.ignore_case

        async def step(ctx: HandshakeContext) -> Refusal | None:
            present = ctx.header_values(name)
            if not present:
                return refusal
            if not values:
                return None
            wanted = [evaluate(v, ctx) for v in values]
            if ignore_case:
                wanted_set = {w.lower() for w in wanted}
                ok = any(p.strip().lower() in wanted_set for p in present)
            else:
                ok = any(p.strip() in wanted for p in present)
            return None if ok else refusal

        return step


@dataclass(frozen=True, kw_only=True)
class SetHeader(Policy):
    """Set, append, skip-if-present or delete a header on the handshake sent to the backend."""

    tag: ClassVar[str] = "set-header"
    name: str
    exists_action: str = "override"
    values: tuple[Value, ...] = ()

    @classmethod
    def parse(cls, node: Node, *, check_name: bool = True, header: bool = True) -> SetHeader:
        a = Attrs(node)
        name = a.text("name", required=True) or ""
        if check_name and is_handshake_header(name):
            raise node.error(f"{name} cannot be changed on a WebSocket handshake", "name")
        action = a.choice("exists-action", EXISTS_ACTIONS, "override")
        a.done()
        values = value_children(node)
        if action != "delete" and not values:
            raise node.error('at least one <value> is required unless exists-action="delete"')
        if action == "delete" and values:
            raise node.error('<value> is not allowed with exists-action="delete"')
        if header:
            check_header_literals(node, name, values)
        return cls(name=name, exists_action=action, values=values, line=node.line)

    def to_element(self) -> Element:
        el = Element(self.tag)
        set_attr(el, "name", self.name)
        set_attr(el, "exists-action", self.exists_action)
        add_values(el, self.values)
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        return _change_step(self.name, self.exists_action, self.values, query=False)


@dataclass(frozen=True, kw_only=True)
class SetQueryParameter(SetHeader):
    """Set, append, skip-if-present or delete a query parameter of the backend handshake URL."""

    tag: ClassVar[str] = "set-query-parameter"

    @classmethod
    def parse(cls, node: Node, *, check_name: bool = False) -> SetQueryParameter:
        h = SetHeader.parse(node, check_name=False, header=False)
        return cls(name=h.name, exists_action=h.exists_action, values=h.values, line=h.line)

    def compile(self, runtime: PolicyRuntime) -> Step:
        return _change_step(self.name, self.exists_action, self.values, query=True)


def _present(ctx: HandshakeContext, name: str, query: bool) -> bool:
    """Whether `name` is on the backend request as it stands after earlier changes."""
    changes = ctx.backend_query if query else ctx.backend_headers
    same = (lambda a: a == name) if query else (lambda a: a.lower() == name.lower())
    for ch in reversed(changes):
        if same(ch.name):
            return ch.action != "delete"
    if query:
        return bool(ctx.query_values(name))
    if ctx.forwarded_headers is not None:
        return any(same(k) for k, _ in ctx.forwarded_headers)
    return bool(ctx.header_values(name))


def _change_step(name: str, action: str, values: tuple[Value, ...], *, query: bool) -> Step:
    async def step(ctx: HandshakeContext) -> Refusal | None:
        changes = ctx.backend_query if query else ctx.backend_headers
        if action == "delete":
            changes.append(Change("delete", name))
            return None
        if action == "skip" and _present(ctx, name, query):
            return None
        resolved = tuple(evaluate(v, ctx) for v in values)
        if not query:  # query values are percent-encoded; header values go out as they are
            for source, text in zip(values, resolved, strict=True):
                if not is_header_value(text):
                    return bad_header_value(name, text, source)
        changes.append(Change("append" if action == "append" else "set", name, resolved))
        return None

    return step
