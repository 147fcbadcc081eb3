"""The policy reference: every element the parser accepts, its attributes and where it may
appear. The publisher's reference page and the table in docs/policies/reference.md are both
rendered from here (`python -m gateway.policies.reference` prints that table; a test compares
them)."""

from __future__ import annotations

from dataclasses import dataclass

HANDSHAKE = "onHandshake inbound"
MESSAGE_IN = "onMessage inbound"
MESSAGE_OUT = "onMessage outbound"
EVERY_SECTION = ("onHandshake inbound/backend/outbound/on-error", MESSAGE_IN, MESSAGE_OUT)
POLICY_PLACES = (HANDSHAKE, MESSAGE_IN, MESSAGE_OUT)


@dataclass(frozen=True)
class Attribute:
    name: str
    note: str
    required: bool = False


@dataclass(frozen=True)
class PolicyReference:
    """One element: what it does, where it may appear, its attributes and its content."""

    tag: str
    summary: str
    where: tuple[str, ...]
    attributes: tuple[Attribute, ...] = ()
    content: str = ""


def A(name: str, note: str, required: bool = False) -> Attribute:  # noqa: N802 - reads as a table
    return Attribute(name, note, required)


_RATE = (
    A("calls", "calls allowed per period", True),
    A("renewal-period", "seconds", True),
)
_RETRY = (
    A("retry-after-header-name", "header carrying the seconds to wait"),
    A("retry-after-variable-name", "variable to store the seconds to wait in"),
    A("remaining-calls-variable-name", "variable to store the calls left in"),
)

REFERENCE: tuple[PolicyReference, ...] = (
    PolicyReference(
        "base",
        "The parent scope's policies go here (API -> product -> All APIs).",
        EVERY_SECTION,
    ),
    PolicyReference(
        "include-fragment",
        "The policies of a policy fragment, written once and included where it stands.",
        (*POLICY_PLACES, "<when>/<otherwise>", "another fragment"),
        (A("fragment-id", "the fragment's name", True),),
    ),
    PolicyReference(
        "choose",
        "Runs the policies of the first <when> whose condition is true, else <otherwise>.",
        POLICY_PLACES,
        content='<when condition="@(…)"> (one or more), then at most one <otherwise>',
    ),
    PolicyReference(
        "check-header",
        "Refuses the handshake unless a header has one of the listed values.",
        (HANDSHAKE,),
        (
            A("name", "header name", True),
            A("failed-check-httpcode", "status of the refusal (default 401)"),
            A("failed-check-error-message", "message of the refusal"),
            A("ignore-case", "true/false (default false)"),
        ),
        "<value> elements",
    ),
    PolicyReference(
        "validate-jwt",
        "Refuses the handshake without a valid JWT (signature, lifetime, audience, issuer, "
        "claims).",
        (HANDSHAKE,),
        (
            A("header-name", "read the token from this header"),
            A("query-parameter-name", "… or this query parameter"),
            A("token-value", "… or this expression"),
            A("require-scheme", "e.g. Bearer"),
            A("failed-validation-httpcode", "status of the refusal (default 401)"),
            A("failed-validation-error-message", "message of the refusal"),
            A("require-expiration-time", "true/false (default true)"),
            A("require-signed-tokens", "true/false (default true)"),
            A("clock-skew", "seconds of tolerance"),
            A("output-token-variable-name", "variable to store the token in for conditions"),
        ),
        "<issuer-signing-keys><key> (base64 secret, PEM, or n/e), <openid-config url>, "
        "<audiences><audience>, <issuers><issuer>, <required-claims><claim name match "
        "separator><value>",
    ),
    PolicyReference(
        "authentication-certificate",
        "Presents a catalog certificate (with its key) to the wss:// backend.",
        (HANDSHAKE,),
        (A("certificate-id", "the certificate's name in the catalog", True),),
    ),
    PolicyReference(
        "validate-client-certificate",
        "Checks the client's TLS certificate (dates, trust, revocation, identities); 403.",
        (HANDSHAKE,),
        (
            A("validate-revocation", "true/false (default true): against uploaded CRLs only"),
            A("validate-trust", "true/false (default true): issued by a catalog CA"),
            A("validate-not-before", "true/false (default true)"),
            A("validate-not-after", "true/false (default true)"),
            A("ignore-error", "true/false (default false): continue even if it fails"),
        ),
        "<identities><identity thumbprint serial-number common-name subject dns-name "
        "issuer-subject issuer-thumbprint> (any one identity must match in full)",
    ),
    PolicyReference(
        "ip-filter",
        "Allows or forbids client addresses.",
        (HANDSHAKE,),
        (A("action", "allow or forbid", True),),
        "<address> and <address-range from to>",
    ),
    PolicyReference(
        "rate-limit", "Calls per subscription per period; 429.", (HANDSHAKE,), _RATE + _RETRY
    ),
    PolicyReference(
        "rate-limit-by-key",
        "Calls per key per period; 429.",
        (HANDSHAKE,),
        (
            *_RATE,
            A("counter-key", "expression giving the key", True),
            A("increment-count", "how much one handshake counts (default 1)"),
            *_RETRY,
        ),
    ),
    PolicyReference("quota", "Calls per subscription per (long) period; 403.", (HANDSHAKE,), _RATE),
    PolicyReference(
        "quota-by-key",
        "Calls per key per (long) period; 403.",
        (HANDSHAKE,),
        (*_RATE, A("counter-key", "expression giving the key", True)),
    ),
    PolicyReference(
        "limit-concurrency",
        "Open connections per key; 429 beyond the count.",
        (HANDSHAKE,),
        (A("key", "expression giving the key", True), A("max-count", "connections", True)),
    ),
    PolicyReference(
        "set-header",
        "Sets, appends or deletes a header of the backend handshake.",
        (HANDSHAKE,),
        (
            A("name", "header name", True),
            A("exists-action", "override, skip, append or delete (default override)"),
        ),
        "<value> elements (text or expression)",
    ),
    PolicyReference(
        "set-query-parameter",
        "Sets, appends or deletes a query parameter of the backend URL.",
        (HANDSHAKE,),
        (
            A("name", "parameter name", True),
            A("exists-action", "override, skip, append or delete (default override)"),
        ),
        "<value> elements (text or expression)",
    ),
    PolicyReference(
        "set-backend-service",
        "Sends the connection to another backend.",
        (HANDSHAKE,),
        (A("base-url", "ws:// or wss:// URL", True),),
    ),
    PolicyReference(
        "return-response",
        "Refuses the handshake with the publisher's own status, headers and body.",
        (HANDSHAKE,),
        content="<set-status code reason> (400-599), <set-header>, <set-body>",
    ),
    PolicyReference(
        "set-variable",
        "Stores a value for later policies and conditions.",
        (HANDSHAKE,),
        (A("name", "variable name", True), A("value", "text or expression", True)),
    ),
    PolicyReference(
        "set-connection-tag",
        "Tags the connection (at most 8): listed, filters the list, selects broadcasts.",
        (HANDSHAKE,),
        (
            A("name", "tag name (letters, digits, _ . -)", True),
            A("value", "text or expression", True),
        ),
    ),
    PolicyReference(
        "limit-message-size",
        "Closes (1009) on a larger message.",
        (MESSAGE_IN, MESSAGE_OUT),
        (A("max-bytes", "UTF-8 bytes for text", True),),
    ),
    PolicyReference(
        "rate-limit-messages",
        "Messages per period: close (1008) or drop.",
        (MESSAGE_IN, MESSAGE_OUT),
        (
            *_RATE,
            A("action", "close or drop (default close)"),
            A("counter-key", "expression: one shared counter per key (Redis)"),
        ),
    ),
    PolicyReference(
        "validate-message",
        "Checks text messages against a JSON Schema: close (1007), drop or log.",
        (MESSAGE_IN, MESSAGE_OUT),
        (
            A("action", "close, drop or log (default close)"),
            A("schema-source", "inline or asyncapi (default inline)"),
        ),
        "<schema> (inline JSON Schema) unless schema-source is asyncapi",
    ),
    PolicyReference(
        "log-messages",
        "Keeps a redacted sample of messages in the connection's log.",
        (MESSAGE_IN, MESSAGE_OUT),
        (
            A("sampling-percentage", "above 0, at most 100 (default 100)"),
            A("max-bytes", "per message kept (default 256, at most 4096)"),
        ),
        '<redact path="$.a.b"> elements',
    ),
)


def by_tag() -> dict[str, PolicyReference]:
    return {ref.tag: ref for ref in REFERENCE}


def _attributes_text(ref: PolicyReference) -> str:
    parts = [f"`{a.name}`{' (required)' if a.required else ''}: {a.note}" for a in ref.attributes]
    return "; ".join(parts) or "none"


def render_markdown() -> str:
    """The docs' table (between the policy-reference markers of docs/policies/reference.md)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = ["| Element | Where | Attributes | Content | What it does |", "|---|---|---|---|---|"]
    for ref in REFERENCE:
        lines.append(
            f"| `{ref.tag}` | {cell(', '.join(ref.where))} | {cell(_attributes_text(ref))} "
            f"| {cell(ref.content) or '—'} | {cell(ref.summary)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
