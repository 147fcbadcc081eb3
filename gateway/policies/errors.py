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

    column: int = 0  # where known: 1-based (in a condition, from its "@")
    span: tuple[int, int] | None = None  # set for conditions; (0, 0) when nothing is quoted
    condition_message: str = ""  # a condition's message without its column

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
    # Longest first: a short value may also occur inside the text of a longer one.
    found = sorted(((n, v) for n, v in secrets.items() if v), key=lambda nv: -len(nv[1]))
    for name, value in found:
        at = _quoted_at(error, value)
        if at < 0:
            continue
        reason = error.reason or error.message[len(error.where) :]
        if error.span is not None:  # a condition: the secret broke its syntax
            column = _written_column(error, at + 1, found)
            reason = (
                f"does not parse as part of the condition at column {column} "
                f'(text belongs in a string literal: "{{{{{name}}}}}")'
            )
        message = f"{error.where}the value of named value {name} {reason}"
        return _scrub(_located(error, message), found)
    column = _written_column(error, error.column, found)
    if error.span is not None and column != error.column:
        # A column after a secret's value would tell its length: count `{{name}}` instead.
        message = f"{error.where}column {column}: {error.condition_message}"
        return _scrub(_located(error, message), found)
    return _scrub(str(error), found)


def _written_column(error: PolicyError, column: int, found: list[tuple[str, str]]) -> int:
    """A condition's column as written, each secret's value before it counted as `{{name}}`."""
    subject = error.subject or ""
    return column - sum(
        (len(value) - len(f"{{{{{name}}}}}")) * subject.count(value, 0, max(column - 1, 0))
        for name, value in found
    )


def _located(error: PolicyError, message: str) -> str:
    """`message` where `error` is (its line, element and attribute)."""
    located = PolicyError(
        message, line=error.line, element=error.element, attribute=error.attribute
    )
    return str(located)


def _quoted_at(error: PolicyError, value: str) -> int:
    """Where in the error's subject the message may quote `value` (-1: nowhere). A condition's
    message quotes only the columns in its span; other messages may quote the whole subject."""
    subject = error.subject or ""
    at = subject.find(value)
    if error.span is None:
        return at
    start, end = error.span  # 1-based columns: column c is subject[c - 1]
    while at >= 0:
        if start <= at + len(value) and at + 1 < end:
            return at
        at = subject.find(value, at + 1)
    return -1


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
