"""Reading a document's text stays bounded: alias bombs, size, nesting, YAML-only values."""

import json

import pytest

from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.loading import MAX_DOCUMENT_BYTES, parse_text


def refused(text) -> str:
    with pytest.raises(AsyncApiError) as caught:
        parse_text(text)
    [problem] = caught.value.problems
    assert problem.path == "$" and problem.field == "document"
    return problem.message


def test_a_yaml_alias_bomb_is_refused_before_it_expands():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    assert "more than 200000 values" in refused("\n".join(lines))


def test_too_large_too_deep_and_not_text_are_refused():
    big = json.dumps({"asyncapi": "3.0.0", "pad": "x" * MAX_DOCUMENT_BYTES})
    assert "larger than 1024 KiB" in refused(big)
    assert "nests deeper than" in refused("[" * 5000 + "]" * 5000)
    assert "nests deeper than" in refused('{"a": ' * 300 + "1" + "}" * 300)
    assert refused(b"\xff\xfe\x00bad") == "The document is not UTF-8 text."
    assert refused("just a string").startswith("An AsyncAPI document is a mapping")


def test_yaml_dates_and_keys_stay_plain_json():
    document = parse_text("asyncapi: 3.0.0\ninfo:\n  version: 2024-01-31\n  1: one\n")
    assert document["info"] == {"version": "2024-01-31", "1": "one"}
    json.dumps(document)  # storable as JSON as it is
