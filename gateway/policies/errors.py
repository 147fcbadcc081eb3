"""The one exception the policy library raises for a document it cannot accept, and how to say
it without quoting a secret named value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.sax.saxutils import escape


class PolicyError(ValueError):
    """A policy document that cannot be parsed or validated, located by line and element.

    `subject` is the document text the error is about (an attribute's value or an element's
    text, named values filled in); `reason` says what is wrong without quoting it ("is not an
    IP address"), when the message quotes it. `span` (1-based columns, end excluded) is the part
    of a condition the message quotes. They let `describe` speak of a secret by its name.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        element: str | None = None,
        attribute: str | None = None,
        subject: str | None = None,
        reason: str | None = None,
        where: str = "",
    ) -> None:
        self.message = message
        self.line = line
        self.element = element
        self.attribute = attribute
        self.subject = subject
        self.reason = reason
        self.where = where  # "in policy fragment 'x': " when the message starts with it
        self.span: tuple[int, int] | None = None
        super().__init__(str(self))

    def __str__(self) -> str:
        parts: list[str] = []
        if self.line:
            parts.append(f"line {self.line}")
        if self.element and self.attribute:
            parts.append(f'<{self.element}> attribute "{self.attribute}"')
        elif self.element:
            parts.append(f"<{self.element}>")
        parts.append(self.message)
        return ": ".join(parts)


def describe(error: PolicyError, secrets: Mapping[str, str]) -> str:
    """`error` as a publisher may read it: when the text it is about holds the value of a secret
    named value (name -> clear value), it speaks of "the value of named value NAME" and quotes
    none of it, not even in part or escaped; any other form of a secret left is replaced by
    `{{NAME}}`."""
    found = [(name, value) for name, value in secrets.items() if value]
    for name, value in found:
        if error.subject and value in error.subject and _quotes(error, value):
            reason = error.reason or error.message[len(error.where) :]
            if error.span is not None:  # a condition: the secret broke its syntax
                start = error.subject.index(value) + 1
                reason = (
                    f"does not parse as part of the condition at column {start} "
                    f'(text belongs in a string literal: "{{{{{name}}}}}")'
                )
            message = f"{error.where}the value of named value {name} {reason}"
            safe = PolicyError(
                message, line=error.line, element=error.element, attribute=error.attribute
            )
            return _scrub(str(safe), found)
    return _scrub(str(error), found)


def _quotes(error: PolicyError, value: str) -> bool:
    """Whether the message may quote `value` (a condition's: only if what it quotes overlaps)."""
    if error.span is None:
        return True
    start, end = error.span
    at = error.subject.find(value)
    while at >= 0:
        if start <= at + len(value) and at + 1 < end:
            return True
        at = error.subject.find(value, at + 1)
    return False


def _scrub(text: str, secrets: list[tuple[str, str]]) -> str:
    """`text` with every written form of a secret (clear, stripped, XML-escaped, as a Python or
    JSON string) replaced by `{{name}}`, longest first so that no part of one is left."""
    forms: dict[str, str] = {}
    for name, value in secrets:
        for form in (
            value,
            value.strip(),
            escape(value),
            escape(value, {'"': "&quot;", "'": "&apos;"}),
            repr(value)[1:-1],
            ascii(value)[1:-1],
            json.dumps(value)[1:-1],
        ):
            if form:
                forms.setdefault(form, name)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, f"{{{{{forms[form]}}}}}")
    return text
