"""Check a document against the official AsyncAPI JSON Schema of its version (shipped as data)."""

import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, relevance

from apis.asyncapi.errors import AsyncApiError, Problem, json_path
from gateway.policies.jsonschemas import NO_RETRIEVAL

SCHEMAS = Path(__file__).with_name("schemas")
MAX_PROBLEMS = 20
# 2.0–2.5 documents are valid 2.6 documents (2.x minors only add), so one 2.x schema serves.
VERSION_2 = re.compile(r"^2\.[0-6]\.0$")
SUPPORTED = "3.0.0, or 2.6.0 (and 2.0.0–2.5.0)"


@cache
def validator(version: str) -> Draft7Validator:
    """The official schema's validator (Draft 7, as the schemas declare), loaded once; its
    references are all inside it, so it never fetches one."""
    schema = json.loads((SCHEMAS / f"{version}.json").read_text())
    return Draft7Validator(schema, registry=NO_RETRIEVAL)


def schema_version(document: dict) -> str:
    """Which shipped schema checks this document: "3.0.0" or "2.6.0"."""
    declared = document.get("asyncapi")
    if declared == "3.0.0":
        return "3.0.0"
    if isinstance(declared, str) and VERSION_2.match(declared):
        return "2.6.0"
    if declared is None:
        message = f"The `asyncapi` field is missing: Portico reads AsyncAPI {SUPPORTED}."
        raise AsyncApiError([Problem("$", message)])
    message = f"AsyncAPI {declared!r} is not supported: Portico reads AsyncAPI {SUPPORTED}."
    raise AsyncApiError([Problem("$.asyncapi", message)])


def leaves(error: ValidationError) -> list[ValidationError]:
    """The failures worth showing under a oneOf/anyOf error.

    Such an error holds the failures of every alternative (e.g. "a Reference" or "a channel"):
    the alternative that got deepest into the document is the one the author meant.
    """
    if not error.context:
        return [error]
    by_alternative: dict = {}
    for sub in error.context:
        by_alternative.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = max(by_alternative.values(), key=_fit)
    return [leaf for sub in sorted(meant, key=relevance) for leaf in leaves(sub)]


def _is_reference_miss(error: ValidationError) -> bool:
    return error.validator == "required" and "'$ref'" in error.message


def _fit(subs: list[ValidationError]) -> tuple:
    """How well an alternative fits: not a missed Reference, deepest failure, fewest failures."""
    found = [leaf for sub in subs for leaf in leaves(sub)]
    return (
        not all(_is_reference_miss(leaf) for leaf in found),
        max(len(leaf.absolute_path) for leaf in found),
        -len(found),
    )


def check(document: dict) -> str:
    """Raise AsyncApiError listing each problem's JSON path; return the schema version used."""
    version = schema_version(document)
    checked = document if version == document["asyncapi"] else {**document, "asyncapi": version}
    errors = sorted(validator(version).iter_errors(checked), key=relevance)
    problems = []
    seen = set()
    for error in errors:
        for leaf in leaves(error):
            problem = Problem(json_path(leaf.absolute_path), leaf.message[:300])
            if problem not in seen:
                seen.add(problem)
                problems.append(problem)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise AsyncApiError(problems)
    return version
