"""Named values: `{{name}}` in a policy's text, replaced by its value before the XML is parsed.

Resolution is textual, as in Azure API Management, and keeps every line where it was: values are
XML-escaped (line breaks become character references), so errors still name the written line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import PolicyError

# Azure's rule for a named value's name: letters, digits, period, dash and underscore.
NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,256}")
REFERENCE = re.compile(r"\{\{(.*?)\}\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ESCAPES = {'"': "&quot;", "'": "&apos;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


@dataclass(frozen=True)
class Reference:
    """One `{{name}}` in a document: where it starts (1-based line and column)."""

    name: str
    line: int
    column: int
    start: int
    end: int


def _blank_comments(xml: str) -> str:
    """The text with comments blanked (line breaks kept), so offsets still match."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), xml)


def references(xml: str | None) -> list[Reference]:
    """Every `{{…}}` outside comments, in order (names not checked: see `check_name`)."""
    if not xml or "{{" not in xml:
        return []
    text = _blank_comments(xml)
    found = []
    for match in REFERENCE.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        found.append(
            Reference(
                name=match[1].strip(),
                line=text.count("\n", 0, match.start()) + 1,
                column=match.start() - line_start + 1,
                start=match.start(),
                end=match.end(),
            )
        )
    return found


def referenced_names(xml: str | None) -> set[str]:
    return {ref.name for ref in references(xml)}


def is_valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.fullmatch(name))


def located(message: str, ref: Reference) -> PolicyError:
    err = PolicyError(f"column {ref.column}: {message}", line=ref.line)
    err.column = ref.column  # type: ignore[attr-defined]
    return err


def resolve_named_values(xml: str, values: Mapping[str, str]) -> str:
    """`xml` with each `{{name}}` replaced by its XML-escaped value; PolicyError (line and
    column) for a malformed or unknown name. Text in comments is left as written."""
    refs = references(xml)
    if not refs:
        return xml
    out: list[str] = []
    last = 0
    for ref in refs:
        if not is_valid_name(ref.name):
            raise located(
                f"{{{{{ref.name}}}}} is not a valid named value name (letters, digits, "
                "'.', '-' and '_', up to 256)",
                ref,
            )
        if ref.name not in values:
            raise located(f"unknown named value {{{{{ref.name}}}}}", ref)
        out.append(xml[last : ref.start])
        out.append(escape_value(values[ref.name]))
        last = ref.end
    out.append(xml[last:])
    return "".join(out)


def escape_value(value: str) -> str:
    """A value as text that is safe in XML element text and in a quoted attribute."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, ref in _ESCAPES.items():
        value = value.replace(char, ref)
    return value
