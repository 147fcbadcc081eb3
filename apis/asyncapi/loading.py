"""Parse an AsyncAPI document from YAML or JSON text into plain JSON-compatible data, bounded."""

import json
import re

import yaml

from apis.asyncapi.errors import AsyncApiError, Problem

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_NODES = 200_000  # counted with YAML aliases expanded, so an alias bomb stops early
MAX_DEPTH = 100


# libyaml's parser when PyYAML has it: fast, and it caps nesting itself.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Safe YAML without timestamps: `version: 2024-01-01` stays the string it looks like."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _flow_too_deep(text: str) -> bool:
    """Brackets nested deeper than MAX_DEPTH (PyYAML's pure-Python parser is quadratic in it).

    Brackets inside strings count too: a document needs more than MAX_DEPTH unclosed ones in
    its text for a false alarm.
    """
    depth = 0
    for bracket in _NOT_BRACKETS.sub("", text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            return True
    return False


def _refuse(message: str) -> AsyncApiError:
    return AsyncApiError([Problem("$", message)])


def parse_text(text: str | bytes) -> dict:
    """The document in `text` (YAML or JSON); AsyncApiError when it is neither or too big."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse("The document is not UTF-8 text.") from None
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise _refuse(f"The document is larger than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    if _flow_too_deep(text):
        raise _refuse(f"The document nests deeper than {MAX_DEPTH} levels.")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _refuse(f"Not valid JSON: {exc}") from None
        except RecursionError:
            raise _refuse(f"The document nests deeper than {MAX_DEPTH} levels.") from None
    else:
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader's subclass)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "cannot be parsed"
            raise _refuse(f"Not valid YAML: {problem}{where}.") from None
        except RecursionError:
            raise _refuse(f"The document nests deeper than {MAX_DEPTH} levels.") from None
    return plain(data)


def plain(data) -> dict:
    """The document as JSON data (string keys, no YAML-only types), at most MAX_NODES nodes."""
    budget = [MAX_NODES]

    def walk(value, depth=0):
        budget[0] -= 1
        if budget[0] < 0:
            raise _refuse(f"The document has more than {MAX_NODES} values.")
        if depth > MAX_DEPTH:
            raise _refuse(f"The document nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            return {str(k): walk(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, depth + 1) for v in value]
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)  # e.g. YAML binary or set values

    data = walk(data)
    if not isinstance(data, dict):
        raise _refuse("An AsyncAPI document is a mapping (an object at the top).")
    return data
