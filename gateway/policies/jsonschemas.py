"""JSON Schema checks for validate-message: fastjsonschema's generated code where it means the
same as the reference validator (jsonschema), jsonschema for the rest and for error messages.

fastjsonschema (about 2 µs per small message here, jsonschema about 23 µs) implements drafts 4-7.
A 2020-12 schema goes through it only when every keyword it uses means the same in draft 7; a
message it refuses is checked again by jsonschema, which is the reference and names the error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.validators import validator_for

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


def describe(error) -> str:
    """The error's path and keyword, never the message's own values (they may be secrets and
    this text reaches the close reason and the connection log); "required" names only the
    schema's property."""
    if error.validator == "required":
        return f"{error.json_path}: {error.message}"
    return f'{error.json_path}: fails "{error.validator}"'


def compile_check(schema: Any, default=Draft202012Validator) -> Callable[[Any], str | None]:
    """check(instance) -> None if valid, else "<json path>: <message>" of the first error."""
    import fastjsonschema  # here, not at import: only validate-message needs it

    reference = validator_for(schema, default=default)(schema)
    fast = None
    if reference.__class__ is Draft7Validator or _draft7_compatible(schema):
        try:
            fast = fastjsonschema.compile(schema, use_default=False, use_formats=False)
        except Exception:  # noqa: BLE001 - anything it cannot compile
            fast = None  # something it cannot compile: the reference alone

    def first_error(instance: Any) -> str | None:
        error = next(reference.iter_errors(instance), None)
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
