"""Policy documents against the catalog: named values and fragments filled in, checked at save
time, resolved for gateways, and who uses which (through the gateway's policy library)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from apis.models import Api, GlobalPolicy, PolicyFragment, Product
from apis.models.library import check_fragment, check_policy_document, policy_environment
from apis.policy_resolution import PolicyEnvironment, document_error, fragment_error
from gateway.policies.fragments import fragment_ids
from gateway.policies.namedvalues import referenced_names

__all__ = [
    "HEADER_POLICIES",
    "PolicyDocumentRef",
    "PolicyEnvironment",
    "all_documents",
    "check_fragment",
    "check_policy_document",
    "check_users",
    "document_error",
    "fragment_error",
    "headers_carrying",
    "policy_environment",
    "users",
]


HEADER_POLICIES = ("check-header", "set-header")


def headers_carrying(xml: str, secrets: list[str]) -> set[str]:
    """Names of the headers whose check-header/set-header holds one of `secrets`."""
    if not secrets:
        return set()
    from gateway.policies.xmlnode import parse_xml

    found: set[str] = set()
    stack = [parse_xml(xml)]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node.tag in HEADER_POLICIES and node.attrib.get("name"):
            texts, inner = [], [node]
            while inner:
                item = inner.pop()
                texts += [item.text, *item.attrib.values()]
                inner += item.children
            if any(secret in text for secret in secrets for text in texts):
                found.add(node.attrib["name"])
        stack += node.children
    return found


# Who uses what ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDocumentRef:
    """One stored document: an API's, a product's, All APIs' or a fragment's."""

    kind: str  # "api", "product", "global", "fragment", or "broker" (an API's broker URL)
    name: str
    xml: str

    @property
    def scope(self) -> str:
        return self.kind

    @property
    def label(self) -> str:
        return {
            "api": f"API '{self.name}'",
            "product": f"product '{self.name}'",
            "global": "All APIs",
            "fragment": f"policy fragment '{self.name}'",
            "broker": f"API '{self.name}' (broker URL)",
        }[self.kind]


def all_documents() -> list[PolicyDocumentRef]:
    docs = [
        PolicyDocumentRef("api", n, x)
        for n, x in Api.objects.exclude(policy_xml="").values_list("name", "policy_xml")
    ]
    docs += [
        PolicyDocumentRef("product", n, x)
        for n, x in Product.objects.exclude(policy_xml="").values_list("name", "policy_xml")
    ]
    glob = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    if glob:
        docs.append(PolicyDocumentRef("global", "", glob))
    docs += [
        PolicyDocumentRef("fragment", n, x)
        for n, x in PolicyFragment.objects.values_list("name", "xml")
    ]
    # Broker URLs whose password or token is a named value use it too (it must stay secret).
    docs += [
        PolicyDocumentRef("broker", n, url)
        for n, url in Api.objects.filter(backend_url__contains="{{").values_list(
            "name", "backend_url"
        )
    ]
    return docs


def users(
    *, named_value: str | None = None, fragment: str | None = None, docs=None
) -> list[PolicyDocumentRef]:
    """The documents that use a named value or include a fragment, directly or through
    fragments (so every policy recompiled when it changes), in a stable order."""
    docs = all_documents() if docs is None else docs
    using: dict[tuple[str, str], PolicyDocumentRef] = {}
    for doc in docs:
        if (named_value is not None and named_value in referenced_names(doc.xml)) or (
            fragment is not None and fragment in fragment_ids(doc.xml)
        ):
            using[(doc.kind, doc.name)] = doc
    changed = True
    while changed:  # a document including a fragment that uses it, uses it too
        changed = False
        via = {name for kind, name in using if kind == "fragment"}
        for doc in docs:
            if (doc.kind, doc.name) not in using and fragment_ids(doc.xml) & via:
                using[(doc.kind, doc.name)] = doc
                changed = True
    order = {"global": 0, "product": 1, "api": 2, "broker": 2, "fragment": 3}
    return sorted(using.values(), key=lambda d: (order[d.kind], d.name))


def check_users(
    docs: list[PolicyDocumentRef], env: PolicyEnvironment, *, field: str, skip: str = ""
) -> None:
    """Refuse a change that would break a document using it, naming the document."""
    for doc in docs:
        if doc.kind == "broker":
            continue  # any value will do; that it stays secret is the named value's check
        if doc.kind == "fragment":
            if doc.name == skip:
                continue
            error = fragment_error(env.fragments.texts[doc.name], doc.name, env)
        else:
            error = document_error(doc.xml, doc.scope, env)
        if error:
            raise ValidationError({field: f"{doc.label} would no longer be valid: {error}"})
