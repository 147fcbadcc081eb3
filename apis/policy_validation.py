"""Policy documents against the catalog: named values and fragments filled in, checked at save
time, resolved for gateways, and who uses which (through the gateway's policy library)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError

from gateway.policies import PolicyError, parse_document
from gateway.policies.document import validate_fragment
from gateway.policies.errors import describe
from gateway.policies.fragments import fragment_ids, resolve_text
from gateway.policies.namedvalues import escape_value, referenced_names, resolve_named_values


class _Values(Mapping):
    """name -> clear value; a secret is decrypted only when a document uses it."""

    def __init__(self, rows: dict, overrides: dict[str, str]) -> None:
        self.rows, self.overrides, self.cache = rows, overrides, {}

    def __getitem__(self, name: str) -> str:
        if name in self.overrides:
            return self.overrides[name]
        if name not in self.cache:
            self.cache[name] = self.rows[name].resolved_value()
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter({*self.rows, *self.overrides})

    def __len__(self) -> int:
        return len({*self.rows, *self.overrides})


class _Fragments(Mapping):
    """fragment id -> its text with named values filled in (resolved when first included)."""

    def __init__(self, texts: dict[str, str], values: _Values) -> None:
        self.texts, self.values, self.cache = texts, values, {}

    def __getitem__(self, fragment_id: str) -> str:
        if fragment_id not in self.cache:
            try:
                self.cache[fragment_id] = resolve_named_values(self.texts[fragment_id], self.values)
            except PolicyError as exc:
                raise PolicyError(
                    f"in policy fragment '{fragment_id}': {exc}", line=exc.line
                ) from None
        return self.cache[fragment_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class PolicyEnvironment:
    """What `{{name}}` and `<include-fragment>` mean right now (with unsaved changes applied)."""

    values: _Values
    fragments: _Fragments

    def secret_values_used(self) -> list[str]:
        """The clear values of the secrets resolved so far (never logged or shown)."""
        rows = self.values.rows
        return [v for n, v in self.values.cache.items() if v and n in rows and rows[n].secret]

    def secrets(self) -> dict[str, str]:
        """name -> clear value of the secrets used so far, and of values being edited (an edit
        may be making one secret: they are hidden too)."""
        rows = self.values.rows
        secrets = {n: v for n, v in self.values.cache.items() if n in rows and rows[n].secret}
        secrets.update(self.values.overrides)
        return secrets

    def describe(self, error: PolicyError) -> str:
        """The error as a publisher reads it: "the value of named value NAME ..." where it is
        about a secret's value, which it never quotes, not even in part."""
        return describe(error, self.secrets())

    def redact(self, text: str) -> str:
        """`text` (a document) with every secret value used so far replaced by `{{name}}`."""
        for name, clear in self.secrets().items():
            if not clear:
                continue
            forms = {clear, escape_value(clear), escape(clear), escape(clear, {'"': "&quot;"})}
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, f"{{{{{name}}}}}")
        return text

    def resolve(self, xml: str) -> str:
        """The text a gateway compiles (PolicyError when it does not resolve)."""
        return resolve_text(xml, self.values, self.fragments)


def policy_environment(
    *, values: dict[str, str] | None = None, fragments: dict[str, str] | None = None
) -> PolicyEnvironment:
    """The catalog's named values and fragments; `values`/`fragments` override (unsaved edits;
    a None text removes the fragment)."""
    from apis.models import NamedValue, PolicyFragment

    rows = {row.name: row for row in NamedValue.objects.all()}
    texts = dict(PolicyFragment.objects.values_list("name", "xml"))
    for name, text in (fragments or {}).items():
        if text is None:
            texts.pop(name, None)
        else:
            texts[name] = text
    named = _Values(rows, dict(values or {}))
    return PolicyEnvironment(named, _Fragments(texts, named))


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


def document_error(xml: str, scope: str, env: PolicyEnvironment) -> str | None:
    """Why `xml` is not a valid document at `scope` with `env` (secrets redacted), or None."""
    if not xml or not xml.strip():
        return None
    try:
        parse_document(resolve_named_values(xml, env.values), scope, fragments=env.fragments)
    except PolicyError as exc:
        return env.describe(exc)
    return None


def fragment_error(xml: str, fragment_id: str, env: PolicyEnvironment) -> str | None:
    try:
        validate_fragment(resolve_named_values(xml, env.values), fragment_id, env.fragments)
    except PolicyError as exc:
        return env.describe(exc)
    return None


def check_policy_document(xml: str, *, scope: str, field: str) -> None:
    """Raise a field ValidationError naming the element and line when the document is invalid."""
    if not xml or not xml.strip():
        return
    error = document_error(xml, scope, policy_environment())
    if error:
        raise ValidationError({field: error})


def check_fragment(xml: str, *, fragment_id: str, field: str) -> None:
    if not xml or not xml.strip():
        raise ValidationError({field: "A policy fragment needs a <fragment> element."})
    env = policy_environment(fragments={fragment_id: xml} if fragment_id else None)
    error = fragment_error(xml, fragment_id, env)
    if error:
        raise ValidationError({field: error})


# Who uses what ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDocumentRef:
    """One stored document: an API's, a product's, All APIs' or a fragment's."""

    kind: str  # "api", "product", "global" or "fragment"
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
        }[self.kind]


def all_documents() -> list[PolicyDocumentRef]:
    from apis.models import Api, GlobalPolicy, PolicyFragment, Product

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
    order = {"global": 0, "product": 1, "api": 2, "fragment": 3}
    return sorted(using.values(), key=lambda d: (order[d.kind], d.name))


def check_users(
    docs: list[PolicyDocumentRef], env: PolicyEnvironment, *, field: str, skip: str = ""
) -> None:
    """Refuse a change that would break a document using it, naming the document."""
    for doc in docs:
        if doc.kind == "fragment":
            if doc.name == skip:
                continue
            error = fragment_error(env.fragments.texts[doc.name], doc.name, env)
        else:
            error = document_error(doc.xml, doc.scope, env)
        if error:
            raise ValidationError({field: f"{doc.label} would no longer be valid: {error}"})
