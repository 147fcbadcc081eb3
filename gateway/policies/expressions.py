"""Policy values: literals or one of a fixed set of `@(...)` expressions, matched by pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .context import CERTIFICATE_MEMBERS
from .errors import PolicyError

if TYPE_CHECKING:
    from .context import HandshakeContext

_S = r'"((?:[^"\\]|\\.)*)"'  # a C# string literal, group = body
_V = r"context\.Variables\[" + _S + r"\]"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("subscription.id", re.compile(r"context\.Subscription\.Id")),
    ("subscription.key", re.compile(r"context\.Subscription\.Key")),
    ("subscription.name", re.compile(r"context\.Subscription\.Name")),
    ("request.ip", re.compile(r"context\.Request\.IpAddress")),
    (
        "request.header",
        re.compile(
            r"context\.Request\.Headers\.GetValueOrDefault\(\s*"
            + _S
            + r"\s*(?:,\s*"
            + _S
            + r"\s*)?\)"
        ),
    ),
    ("request.host", re.compile(r"context\.Request\.Url\.Host")),
    (
        "request.certificate",
        re.compile(
            r"context\.Request\.Certificate\."
            r"(Subject|Issuer|Thumbprint|SerialNumber|NotBefore|NotAfter|CommonName)"
        ),
    ),
    ("api.name", re.compile(r"context\.Api\.Name")),
    ("api.id", re.compile(r"context\.Api\.Id")),
    ("product.name", re.compile(r"context\.Product\.Name")),
    ("user.id", re.compile(r"context\.User\.Id")),
    ("deployment.region", re.compile(r"context\.Deployment\.Region")),
    ("variable", re.compile(r"(?:\(string\)\s*)?" + _V)),
    (
        "jwt.claim",
        re.compile(
            r"\(\(Jwt\)\s*"
            + _V
            + r"\)\.Claims\.GetValueOrDefault\(\s*"
            + _S
            + r"\s*(?:,\s*"
            + _S
            + r"\s*)?\)"
        ),
    ),
    ("jwt.subject", re.compile(r"\(\(Jwt\)\s*" + _V + r"\)\.Subject")),
]

SUPPORTED_EXPRESSIONS = (
    "@(context.Subscription.Id)",
    "@(context.Subscription.Key)",
    "@(context.Subscription.Name)",
    "@(context.Request.IpAddress)",
    '@(context.Request.Headers.GetValueOrDefault("Name", "default"))',
    "@(context.Request.Url.Host)",
    "@(context.Request.Certificate.Subject)",
    "@(context.Request.Certificate.Thumbprint)",
    "@(context.Api.Name)",
    "@(context.Api.Id)",
    "@(context.Product.Name)",
    "@(context.User.Id)",
    "@(context.Deployment.Region)",
    '@(context.Variables["name"])',
    '@((string)context.Variables["name"])',
    '@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("sub", ""))',
    '@(((Jwt)context.Variables["jwt"]).Subject)',
)


def _unescape(s: str | None) -> str:
    if s is None:
        return ""
    return re.sub(r"\\(.)", r"\1", s)


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed `@(...)` expression: its source text, kind and string arguments."""

    source: str
    kind: str
    args: tuple[str, ...] = ()

    def evaluate(self, ctx: HandshakeContext) -> str:
        kind, args = self.kind, self.args
        if kind == "subscription.id":
            return ctx.subscription_id or ""
        if kind == "subscription.key":
            return ctx.subscription_key or ""
        if kind == "subscription.name":
            return ctx.subscription_name or ""
        if kind == "request.ip":
            return ctx.client_ip or ctx.peer_ip or ""
        if kind == "request.header":
            return ctx.header(args[0], args[1])
        if kind == "request.host":
            return ctx.host
        if kind == "request.certificate":
            cert = ctx.client_certificate
            return CERTIFICATE_MEMBERS[args[0]](cert) if cert is not None else ""
        if kind == "api.name":
            return ctx.api_name or ""
        if kind == "api.id":
            return ctx.api_id or ""
        if kind == "product.name":
            return ctx.product_names[0] if ctx.product_names else ""
        if kind == "user.id":
            return ctx.user_id or ""
        if kind == "deployment.region":
            return ctx.region or ""
        if kind == "variable":
            return _as_text(ctx.variables.get(args[0]))
        if kind == "jwt.claim":
            token = ctx.variables.get(args[0])
            claims = getattr(token, "claims", None) or {}
            if args[1] not in claims:
                return args[2]
            return _as_text(claims[args[1]])
        if kind == "jwt.subject":
            token = ctx.variables.get(args[0])
            return _as_text((getattr(token, "claims", None) or {}).get("sub"))
        raise AssertionError(kind)  # pragma: no cover


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


Value = str | Expr


def parse_expression(source: str) -> Expr | None:
    """Return the `Expr` for `@(...)` source, or None when it matches no supported form."""
    if not (source.startswith("@(") and source.endswith(")")):
        return None
    body = source[2:-1].strip()
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(body)
        if m:
            groups = m.groups()
            if kind in ("request.header",):
                args = (_unescape(groups[0]), _unescape(groups[1]))
            elif kind == "jwt.claim":
                args = (_unescape(groups[0]), _unescape(groups[1]), _unescape(groups[2]))
            else:
                args = tuple(_unescape(g) for g in groups if g is not None)
            return Expr(source=source, kind=kind, args=args)
    return None


def parse_value(raw: str, *, node: Any = None, attribute: str | None = None) -> Value:
    """Turn raw attribute/element text into a literal or an `Expr` (`@@` escapes a literal @)."""
    text = raw.strip()
    if text.startswith("@@"):
        return text[1:]
    if text.startswith("@"):
        expr = parse_expression(text)
        if expr is None:
            supported = "supported: " + ", ".join(SUPPORTED_EXPRESSIONS)
            message = f"unsupported expression {text!r}; {supported}"
            if node is not None:
                raise node.error(
                    message, attribute, reason=f"is not a supported expression; {supported}"
                )
            raise PolicyError(message, attribute=attribute)
        return expr
    return text


def value_to_text(value: Value) -> str:
    """The source form of a value, escaping a literal leading @."""
    if isinstance(value, Expr):
        return value.source
    return "@" + value if value.startswith("@") else value


def evaluate(value: Value, ctx: HandshakeContext) -> str:
    """The value of a literal or expression for this handshake."""
    return value if isinstance(value, str) else value.evaluate(ctx)


def is_literal(value: Value) -> bool:
    return isinstance(value, str)
