"""JSON Schema checks for validate-message: fastjsonschema's generated code where it means the
same as the reference validator (jsonschema), jsonschema for the rest and for error messages.

fastjsonschema (about 2 µs per small message here, jsonschema about 23 µs) implements drafts 4-7.
A 2020-12 schema goes through it only when every keyword it uses means the same in draft 7; a
message it refuses is checked again by jsonschema, which is the reference and names the error.

Schemas never reach the network or the file system: a reference must point inside the schema
("#..."), both validators compile with retrieval disabled, and nesting is bounded.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.validators import validator_for
from referencing import Registry
from referencing.exceptions import Unresolvable

from .errors import PolicyError

# Levels a schema may nest (an AsyncAPI payload counted with its references followed): checking
# a message recurses through the schema, so deeper ones are refused when saved and compiled.
MAX_DEPTH = 64
REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
# jsonschema's default registry fetches unknown URIs (http, file, ...) with urllib, on every
# message: an empty registry knows only the meta-schemas and the schema itself.
NO_RETRIEVAL = Registry()

# Keywords whose meaning is the same in draft 7 and 2020-12 (not $ref, $defs, items as an
# array, dependencies, prefixItems, unevaluated*, ...: those keep the reference validator).
_SAME_IN_DRAFT_7 = frozenset(
    {
        "type", "enum", "const", "properties", "required", "additionalProperties",
        "patternProperties", "propertyNames", "minProperties", "maxProperties",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
        "contains", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "title", "description", "default", "examples", "$comment", "readOnly", "writeOnly",
        "format",  # an annotation in both, as both validators are used here
        "items",  # only as one schema; an array of schemas is refused in _draft7_compatible
    }
)  # fmt: skip
_SUBSCHEMA_MAPS = ("properties", "patternProperties")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMAS = ("additionalProperties", "propertyNames", "contains", "not", "if", "then", "else")


def _draft7_compatible(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not set(schema) <= _SAME_IN_DRAFT_7:
        return False
    if isinstance(schema.get("items"), list):
        return False
    subs = [schema[k] for k in _SUBSCHEMAS if k in schema]
    subs += [schema["items"]] if "items" in schema else []
    for key in _SUBSCHEMA_MAPS:
        subs += list(schema.get(key, {}).values())
    for key in _SUBSCHEMA_LISTS:
        subs += schema.get(key, [])
    return all(_draft7_compatible(s) for s in subs)


def is_local(ref: Any) -> bool:
    """A reference inside the schema itself ("#", "#/$defs/x", "#anchor"), not a URI to fetch."""
    return isinstance(ref, str) and ref.startswith("#")


def member(path: str, key: Any) -> str:
    """`$.a` + "b" -> `$.a.b`; `$.a` + "$ref" -> `$.a['$ref']`; `$.a` + 0 -> `$.a[0]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if str(key).isidentifier():
        return f"{path}.{key}"
    return path + "['" + str(key).replace("\\", "\\\\").replace("'", "\\'") + "']"


def schema_problem(schema: Any) -> str | None:
    """Why `schema` may not be used, as "<json path>: <reason>", or None.

    Refused: a reference (`$ref`, `$dynamicRef`, `$recursiveRef`) to anything but the schema
    itself (a URL, a file, another document: the reference's text is not repeated, it may hold
    a secret), and nesting deeper than MAX_DEPTH. Walked without recursion.
    """
    stack = [(schema, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{path}: nests deeper than {MAX_DEPTH} levels"
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue
        for key, value in items:
            if key in REFERENCES and isinstance(value, str) and not is_local(value):
                return (
                    f"{member(path, key)}: refers outside the schema; only references inside it"
                    ' ("#...") are allowed'
                )
        stack += [(value, member(path, key), depth + 1) for key, value in reversed(items)]
    return None


class _NoHandlers(dict):
    """fastjsonschema's handlers for every URI scheme: each refuses (its default is urlopen)."""

    def __contains__(self, scheme: object) -> bool:
        return True

    def __missing__(self, scheme: str):
        return _refuse_retrieval


def _refuse_retrieval(uri: str):
    raise ValueError("schemas never fetch references")


def describe(error) -> str:
    """The error's path and keyword, never the message's own values (they may be secrets and
    this text reaches the close reason and the connection log); "required" names only the
    schema's property."""
    if error.validator == "required":
        return f"{error.json_path}: {error.message}"
    return f'{error.json_path}: fails "{error.validator}"'


def compile_check(schema: Any, default=Draft202012Validator) -> Callable[[Any], str | None]:
    """check(instance) -> None if valid, else "<json path>: <message>" of the first error.

    PolicyError when the schema may not be used (`schema_problem`): a schema stored before
    that was checked fails closed here instead of fetching.
    """
    import fastjsonschema  # here, not at import: only validate-message needs it

    problem = schema_problem(schema)
    if problem is not None:
        raise PolicyError(f"the JSON Schema {problem}")
    reference = validator_for(schema, default=default)(schema, registry=NO_RETRIEVAL)
    fast = None
    if reference.__class__ is Draft7Validator or _draft7_compatible(schema):
        try:
            fast = fastjsonschema.compile(  # a copy: it rewrites each "$ref" as an absolute URI
                copy.deepcopy(schema), handlers=_NoHandlers(), use_default=False, use_formats=False
            )
        except Exception:  # noqa: BLE001 - anything it cannot compile
            fast = None  # something it cannot compile: the reference alone

    def first_error(instance: Any) -> str | None:
        try:
            error = next(reference.iter_errors(instance), None)
        except Unresolvable:  # a "#..." reference that points at nothing: fail closed
            return "$: the schema has a reference that points at nothing"
        return None if error is None else describe(error)

    if fast is None:
        return first_error
    refused = fastjsonschema.JsonSchemaValueException

    def check(instance: Any) -> str | None:
        try:
            fast(instance)
            return None
        except refused:
            return first_error(instance)

    return check
