"""What `{{name}}` and `<include-fragment>` mean in a policy document: the environment a
document is resolved and checked in, built from rows the caller reads (no database here)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from gateway.policies import PolicyError, parse_document
from gateway.policies.document import validate_fragment
from gateway.policies.errors import describe
from gateway.policies.fragments import resolve_text
from gateway.policies.namedvalues import escape_value, resolve_named_values


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


def environment_of(
    rows: dict,
    texts: dict[str, str],
    *,
    values: dict[str, str] | None = None,
    fragments: dict[str, str] | None = None,
) -> PolicyEnvironment:
    """The environment of named-value `rows` (name -> row with `.secret`, `.resolved_value()`)
    and fragment `texts` (id -> xml); `values`/`fragments` override (unsaved edits; a None text
    removes the fragment)."""
    texts = dict(texts)
    for name, text in (fragments or {}).items():
        if text is None:
            texts.pop(name, None)
        else:
            texts[name] = text
    named = _Values(rows, dict(values or {}))
    return PolicyEnvironment(named, _Fragments(texts, named))


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
