"""Policy documents: parse and validate per scope, serialize, and merge scopes through <base/>."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from xml.etree.ElementTree import Element, indent, tostring

from .backend import ReturnResponse, SetBackendService
from .backendcert import AuthenticationCertificate
from .choose import Choose, When
from .clientcert import ValidateClientCertificate
from .concurrency import LimitConcurrency
from .conditions import ConditionError, parse_condition
from .errors import PolicyError
from .fragments import ExpansionBudget, expand_document, expand_policies, parse_fragment
from .headers import CheckHeader, SetHeader, SetQueryParameter
from .ipfilter import IpFilter
from .jwt_validation import ValidateJwt
from .message_log import LogMessages
from .messages import LimitMessageSize, MessagePolicy, RateLimitMessages, ValidateMessage
from .model import Attrs, Base, Policy
from .namedvalues import located, references
from .ratelimits import Quota, QuotaByKey, RateLimit, RateLimitByKey
from .tags import SetConnectionTag
from .variables import SetVariable
from .xmlnode import Node, parse_xml

MESSAGE_POLICY_TYPES: dict[str, type[MessagePolicy]] = {
    cls.tag: cls for cls in (LimitMessageSize, RateLimitMessages, ValidateMessage, LogMessages)
}

Scope = Literal["api", "product", "global"]
SECTIONS = ("inbound", "backend", "outbound", "on-error")
# <on-message><inbound/><outbound/></on-message>: client -> backend and backend -> client.
MESSAGE_SECTIONS = ("on-message-inbound", "on-message-outbound")
ALL_SECTIONS = SECTIONS + MESSAGE_SECTIONS

POLICY_TYPES: dict[str, type[Policy]] = {
    cls.tag: cls
    for cls in (
        CheckHeader,
        ValidateJwt,
        ValidateClientCertificate,
        IpFilter,
        RateLimit,
        RateLimitByKey,
        Quota,
        QuotaByKey,
        LimitConcurrency,
        SetHeader,
        SetQueryParameter,
        SetBackendService,
        AuthenticationCertificate,
        ReturnResponse,
        SetVariable,
        SetConnectionTag,
    )
}

EXCLUDED_ON_HANDSHAKE = frozenset(
    {
        "mock-response",
        "cache-lookup",
        "cache-store",
        "cors",
        "cross-domain",
        "jsonp",
        "set-method",
        "set-body",
        "xml-to-json",
        "json-to-xml",
        "xsl-transform",
        "validate-content",
        "validate-parameters",
        "validate-headers",
        "validate-status-code",
    }
)


# Policies Azure API Management has that Portico's onHandshake does not run. Unlike the
# exclusions above they are refused in every mode (skipping a <choose> or a <retry> would
# change what the document means), but with a clearer message than "unknown policy".
AZURE_ONLY = frozenset(
    {
        "authentication-basic",
        "authentication-managed-identity",
        "azure-openai-emit-token-metric",
        "azure-openai-semantic-cache-lookup",
        "azure-openai-semantic-cache-store",
        "azure-openai-token-limit",
        "cache-lookup-value",
        "cache-remove-value",
        "cache-store-value",
        "emit-metric",
        "find-and-replace",
        "forward-request",
        "get-authorization-context",
        "invoke-dapr-binding",
        "llm-content-safety",
        "llm-emit-token-metric",
        "llm-semantic-cache-lookup",
        "llm-semantic-cache-store",
        "llm-token-limit",
        "log-to-eventhub",
        "proxy",
        "publish-to-dapr",
        "redirect-content-urls",
        "retry",
        "rewrite-uri",
        "send-one-way-request",
        "send-request",
        "set-status",
        "trace",
        "validate-azure-ad-token",
        "validate-graphql-request",
        "validate-odata-request",
        "wait",
    }
)
# Named values ({{name}}) are filled in before a document reaches this parser (at save time from
# the catalog, and in the text shipped to nodes); one left means it could not be resolved, and
# taken literally a client sending "{{my-secret}}" would pass a check-header.


def refuse_named_values(xml: str) -> None:
    """Raise PolicyError at the first `{{name}}` outside comments, naming line and column."""
    found = references(xml)
    if found:
        raise located(f"named value {{{{{found[0].name}}}}} was not resolved", found[0])


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed document. A section is None when absent (it then inherits, like `<base/>`)."""

    inbound: tuple[Policy, ...] | None = None
    backend: tuple[Policy, ...] | None = None
    outbound: tuple[Policy, ...] | None = None
    on_error: tuple[Policy, ...] | None = None
    on_message_inbound: tuple[Policy, ...] | None = None
    on_message_outbound: tuple[Policy, ...] | None = None

    def section(self, name: str) -> tuple[Policy, ...] | None:
        return getattr(self, name.replace("-", "_"))

    @property
    def is_empty(self) -> bool:
        return all(self.section(s) is None for s in ALL_SECTIONS)

    def to_xml(self) -> str:
        return to_xml(self)


@dataclass(frozen=True)
class EffectivePolicy:
    """The merged document for one API (no `<base/>` left) and the warnings merging produced."""

    document: PolicyDocument
    warnings: tuple[str, ...] = field(default=())

    @property
    def inbound(self) -> tuple[Policy, ...]:
        return self.document.inbound or ()

    @property
    def on_message_inbound(self) -> tuple[Policy, ...]:
        return self.document.on_message_inbound or ()

    @property
    def on_message_outbound(self) -> tuple[Policy, ...]:
        return self.document.on_message_outbound or ()

    def to_xml(self) -> str:
        return to_xml(self.document)


def _parse_message_policy(node: Node, scope: Scope) -> Policy:
    cls = MESSAGE_POLICY_TYPES.get(node.tag)
    if cls is None:
        if node.tag in POLICY_TYPES or node.tag in AZURE_ONLY or node.tag in EXCLUDED_ON_HANDSHAKE:
            raise node.error(
                f"<{node.tag}> is not available in <on-message>; message policies are "
                + ", ".join(f"<{t}>" for t in (*MESSAGE_POLICY_TYPES, "choose"))
            )
        raise node.error(f"unknown policy <{node.tag}>")
    return cls.parse(node).in_scope(scope)


def _parse_on_message(
    node: Node, scope: Scope, lenient: bool, warnings: list[str]
) -> dict[str, tuple[Policy, ...]]:
    Attrs(node).done()
    out: dict[str, tuple[Policy, ...]] = {}
    for child in node.children:
        if child.tag not in ("inbound", "outbound"):
            raise child.error(
                "expected <inbound> (client messages) or <outbound> (backend messages)"
            )
        name = f"on_message_{child.tag}"
        if name in out:
            raise child.error(f"<{child.tag}> may appear only once in <on-message>")
        out[name] = _parse_section(child, scope, lenient, warnings, on_message=True)
    return out


def _parse_section(
    node: Node, scope: Scope, lenient: bool, warnings: list[str], *, on_message: bool = False
) -> tuple[Policy, ...]:
    Attrs(node).done()
    out: list[Policy] = []
    seen_base = False
    for child in node.children:
        if child.tag == "base":
            if scope == "global":
                if lenient:
                    continue
                raise child.error("<base /> is not allowed in the global scope (it has no parent)")
            if seen_base:
                raise child.error(f"<base /> may appear at most once in <{node.tag}>")
            Attrs(child).done()
            if child.children:
                raise child.error("<base /> takes no content")
            seen_base = True
            out.append(Base(line=child.line))
            continue
        policy = _parse_child(child, node.tag, scope, lenient, warnings, on_message)
        if policy is not None:
            out.append(policy)
    return tuple(out)


def _parse_child(
    child: Node, section: str, scope: Scope, lenient: bool, warnings: list[str], on_message: bool
) -> Policy | None:
    """One policy of a section (None: skipped with a warning in lenient mode)."""
    if child.tag == "choose":
        return _parse_choose(child, section, scope, lenient, warnings, on_message)
    if on_message:
        return _parse_message_policy(child, scope)
    if child.tag in MESSAGE_POLICY_TYPES:
        raise child.error(
            "runs on every message: put it in <on-message> "
            "(<inbound> for client messages, <outbound> for backend messages)"
        )
    if section != "inbound":
        raise child.error(
            f"only <base /> is allowed in <{section}> for WebSocket APIs; "
            "onHandshake policies go in <inbound>"
        )
    if child.tag in EXCLUDED_ON_HANDSHAKE:
        reason = f"<{child.tag}> is not available in the onHandshake policy of a WebSocket API"
        if lenient:
            warnings.append(f"line {child.line}: skipped inherited policy: {reason}")
            return None
        raise child.error(reason)
    if child.tag in AZURE_ONLY:
        raise child.error(
            f"<{child.tag}> is not available in the onHandshake policy of a WebSocket API"
        )
    cls = POLICY_TYPES.get(child.tag)
    if cls is None:
        raise child.error(f"unknown policy <{child.tag}>")
    return cls.parse(child).in_scope(scope)


MAX_CHOOSE_DEPTH = 8  # <choose> inside <choose>: the parser and the compiled steps recurse


def _parse_choose(
    node: Node,
    section: str,
    scope: Scope,
    lenient: bool,
    warnings: list[str],
    on_message: bool,
    depth: int = 1,
) -> Choose:
    """`<choose>` with `<when condition="@(...)">` branches and at most one last `<otherwise>`."""
    if depth > MAX_CHOOSE_DEPTH:
        raise node.error(f"<choose> may nest at most {MAX_CHOOSE_DEPTH} levels deep")
    Attrs(node).done()
    whens: list[When] = []
    otherwise: tuple[Policy, ...] | None = None
    for branch in node.children:
        if branch.tag not in ("when", "otherwise"):
            raise branch.error("unexpected element inside <choose>; expected <when> or <otherwise>")
        if otherwise is not None:
            raise branch.error("<otherwise> must be the last branch of <choose>")
        a = Attrs(branch)
        condition = None
        if branch.tag == "when":
            raw = a.text("condition", required=True) or ""
            try:
                condition = parse_condition(raw, allow_message=on_message)
            except ConditionError as exc:
                where = f"in policy fragment '{branch.source}': " if branch.source else ""
                err = PolicyError(
                    where + exc.message,
                    line=branch.line,
                    element="when",
                    attribute="condition",
                    subject=raw,
                    where=where,
                )
                err.span = exc.span  # what the message quotes of `raw`
                err.condition_message = exc.condition_message
                err.column = exc.column  # counted from the "@" of the condition
                raise err from None
        a.done()
        policies: list[Policy] = []
        for child in branch.children:
            if child.tag == "base":
                raise child.error(f"<base /> is not allowed inside <{branch.tag}>")
            if child.tag == "choose":
                policy = _parse_choose(
                    child, section, scope, lenient, warnings, on_message, depth + 1
                )
            else:
                policy = _parse_child(child, section, scope, lenient, warnings, on_message)
            if policy is not None:
                policies.append(policy)
        if condition is not None:
            whens.append(When(condition, tuple(policies), branch.line))
        else:
            otherwise = tuple(policies)
    if not whens:
        raise node.error("needs at least one <when condition=...>")
    return Choose(whens=tuple(whens), otherwise=otherwise, line=node.line)


def parse_document(
    xml: str | None,
    scope: Scope = "api",
    *,
    lenient: bool = False,
    warnings: list[str] | None = None,
    fragments: Mapping[str, str] | None = None,
) -> PolicyDocument:
    """Parse and validate a document for `scope`; blank text is a document with no policies.

    Strict (the default) is what saving a document calls. `lenient=True` skips policies that
    are excluded on onHandshake, appending a message to `warnings`, instead of refusing them.
    `fragments` (id -> fragment text, named values filled in) expands `<include-fragment>`.
    """
    root = parse_xml(xml or "")
    if root is None:
        return PolicyDocument()
    refuse_named_values(xml or "")
    if root.tag != "policies":
        raise root.error("the document element must be <policies>")
    Attrs(root).done()
    expand_document(root, fragments)
    if warnings is None:
        warnings = []
    sections: dict[str, tuple[Policy, ...]] = {}
    seen: set[str] = set()
    for child in root.children:
        if child.tag == "on-message":
            if (
                "on_message_inbound" in sections
                or "on_message_outbound" in sections
                or ("on-message" in seen)
            ):
                raise child.error("<on-message> may appear only once")
            seen.add("on-message")
            sections.update(_parse_on_message(child, scope, lenient, warnings))
            continue
        if child.tag not in SECTIONS:
            raise child.error(
                "expected <inbound>, <backend>, <outbound>, <on-error> or <on-message>"
            )
        if child.tag.replace("-", "_") in sections:
            raise child.error(f"<{child.tag}> may appear only once")
        sections[child.tag.replace("-", "_")] = _parse_section(child, scope, lenient, warnings)
    return PolicyDocument(**sections)


def validate_document(
    xml: str | None, scope: Scope = "api", fragments: Mapping[str, str] | None = None
) -> PolicyDocument:
    """Save-time check: the parsed document, or PolicyError."""
    return parse_document(xml, scope, fragments=fragments)


def validate_fragment(
    xml: str, fragment_id: str = "", fragments: Mapping[str, str] | None = None
) -> int:
    """Save-time check of a policy fragment (named values filled in): a `<fragment>` holding
    policy elements, each valid in onHandshake or in on-message, its includes known, acyclic
    and within a document's limits once expanded. Returns how many policies it holds; raises
    PolicyError."""
    refuse_named_values(xml)
    root = parse_fragment(xml)
    what = f"policy fragment '{fragment_id}'" if fragment_id else "the policy fragment"
    budget = ExpansionBudget(what, fragments)
    expand_policies(root, budget, (fragment_id,) if fragment_id else ())
    budget.finish(root)
    for child in root.children:
        if child.tag == "base":
            raise child.error("<base /> is not allowed in a policy fragment")
        try:
            _parse_child(child, "inbound", "api", False, [], on_message=False)
        except PolicyError as handshake_error:
            try:
                _parse_child(child, "inbound", "api", False, [], on_message=True)
            except PolicyError as message_error:
                raise (
                    message_error if child.tag in MESSAGE_POLICY_TYPES else handshake_error
                ) from None
    return len(root.children)


def to_xml(doc: PolicyDocument) -> str:
    """Serialize a document as indented XML (round-trips through `parse_document`)."""
    root = Element("policies")
    for name in SECTIONS:
        policies = doc.section(name)
        if policies is None:
            continue
        sec = Element(name)
        for p in policies:
            sec.append(p.to_element())
        root.append(sec)
    inbound, outbound = doc.on_message_inbound, doc.on_message_outbound
    if inbound is not None or outbound is not None:
        on_message = Element("on-message")
        for tag, policies in (("inbound", inbound), ("outbound", outbound)):
            if policies is not None:
                sec = Element(tag)
                for p in policies:
                    sec.append(p.to_element())
                on_message.append(sec)
        root.append(on_message)
    indent(root, space="    ")
    return tostring(root, encoding="unicode")


def _expand(own: tuple[Policy, ...] | None, parent: tuple[Policy, ...]) -> tuple[Policy, ...]:
    """Replace `<base/>` in `own` with `parent`; a missing section inherits the parent."""
    if own is None:
        return parent
    out: list[Policy] = []
    for p in own:
        if isinstance(p, Base):
            out.extend(parent)
        else:
            out.append(p)
    return tuple(out)


def merge(
    api: PolicyDocument, products: list[PolicyDocument], global_: PolicyDocument
) -> PolicyDocument:
    """Merge scopes: API `<base/>` -> each product in order, product `<base/>` -> global.

    The global policies are inserted once, at the first product's `<base/>`, so a global
    counter is not hit twice when an API belongs to several products.
    """
    merged: dict[str, tuple[Policy, ...]] = {}
    for name in ALL_SECTIONS:
        glob = _expand(global_.section(name), ())
        if products:
            level: list[Policy] = []
            used_global = False
            for prod in products:
                own = prod.section(name)
                inherits = own is None or any(isinstance(p, Base) for p in own)
                part = _expand(own, () if used_global else glob)
                used_global = used_global or inherits
                level.extend(part)
            parent = tuple(level)
        else:
            parent = glob
        merged[name.replace("-", "_")] = _expand(api.section(name), parent)
    return PolicyDocument(**merged)


def effective_document(
    api_doc_xml: str | None, product_docs_xml: list[str | None], global_doc_xml: str | None
) -> EffectivePolicy:
    """The effective policy for one API, read leniently (inherited exclusions become warnings)."""
    warnings: list[str] = []

    def read(xml: str | None, scope: Scope, label: str) -> PolicyDocument:
        local: list[str] = []
        doc = parse_document(xml, scope, lenient=True, warnings=local)
        warnings.extend(f"{label}: {w}" for w in local)
        return doc

    api = read(api_doc_xml, "api", "api")
    products = [read(x, "product", f"product {i + 1}") for i, x in enumerate(product_docs_xml)]
    glob = read(global_doc_xml, "global", "global")
    return EffectivePolicy(merge(api, products, glob), tuple(warnings))
