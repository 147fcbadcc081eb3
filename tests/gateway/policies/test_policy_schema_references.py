"""validate-message schemas never reach the network or the file system (issue 23, item 4).

A reference outside the schema is refused when the policy is parsed (saved), a schema that got
past that (stored earlier, or from a contract) fails to compile, and both validators compile with
retrieval disabled. Each test runs a real loopback HTTP server that records every request.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.policies import PolicyError, PolicyRuntime, compile_policy, effective_document
from gateway.policies.jsonschemas import compile_check
from tests.support.schema_host import KINDS, MAX_DEPTH, SchemaHost, remote_references


def on_message(inbound: str) -> str:
    return f"<policies><on-message><inbound>{inbound}</inbound></on-message></policies>"


def inline(schema) -> str:
    return on_message(f"<validate-message><schema>{json.dumps(schema)}</schema></validate-message>")


def start(xml: str, schemas: dict | None = None):
    pipeline = compile_policy(
        effective_document(xml, [], None), PolicyRuntime(), message_schemas=schemas
    )
    return pipeline.messages.start(None)


def verdict(conn, text: str):
    return asyncio.run(_maybe(conn.inbound(text, len(text))))


async def _maybe(result):
    return await result if asyncio.iscoroutine(result) else result


@pytest.mark.parametrize("kind", KINDS)
def test_a_reference_outside_the_schema_is_refused_when_saved_and_never_fetched(kind, tmp_path):
    with SchemaHost() as host:
        schema, path = remote_references(host, tmp_path)[kind]
        with pytest.raises(PolicyError) as refused:
            effective_document(inline(schema), [], None)
        assert host.requests == []
    message = str(refused.value)
    assert f"{path}: refers outside the schema" in message, message
    assert "<schema>" in message and "line 1" in message
    assert "127.0.0.1" not in message and "file:" not in message  # a URL may hold a secret


@pytest.mark.parametrize("kind", KINDS)
def test_a_contract_schema_with_an_outside_reference_fails_closed_when_compiled(kind, tmp_path):
    """A contract stored before this check (or written around it): the gateway refuses to
    compile the policy, and nothing is fetched."""
    with SchemaHost() as host:
        schema, path = remote_references(host, tmp_path)[kind]
        xml = on_message('<validate-message schema-source="asyncapi"/>')
        with pytest.raises(PolicyError) as refused:
            start(xml, {"send": [schema], "receive": []})
        assert host.requests == []
    assert f"{path}: refers outside the schema" in str(refused.value)
    assert "of the AsyncAPI contract" in str(refused.value)


def test_local_references_are_allowed_and_compile_again_the_same():
    schema = {
        "definitions": {"op": {"type": "string"}},
        "$defs": {"n": {"type": "integer"}},
        "type": "object",
        "properties": {"op": {"$ref": "#/definitions/op"}, "n": {"$ref": "#/$defs/n"}},
    }
    xml = inline(schema)
    for _ in range(2):  # fastjsonschema rewrites refs in what it compiles: never in ours
        conn = start(xml)
        assert verdict(conn, '{"op": "hi", "n": 1}') is None
        assert verdict(conn, '{"op": 5}').reason == '$.op: fails "type"'
    check = compile_check({**schema, "$schema": "http://json-schema.org/draft-07/schema#"})
    assert check({"op": "x"}) is None and check({"n": "x"}) == '$.n: fails "type"'


def test_a_local_reference_to_nothing_fails_the_message_instead_of_crashing():
    check = compile_check({"properties": {"a": {"$ref": "#/definitions/missing"}}})
    assert check({"a": 1}) == "$: the schema has a reference that points at nothing"


def test_both_validators_compile_with_retrieval_disabled():
    """Behind the save-time check: neither library fetches even when handed a remote ref."""
    import fastjsonschema
    from jsonschema import Draft7Validator
    from referencing.exceptions import Unresolvable

    from gateway.policies.jsonschemas import NO_RETRIEVAL, _NoHandlers

    with SchemaHost() as host:
        with pytest.raises(Unresolvable):
            Draft7Validator({"$ref": host.url()}, registry=NO_RETRIEVAL).is_valid(5)
        for scheme_url in (host.url(), "file:///etc/hostname", "data:,{}", "ftp://127.0.0.1/x"):
            with pytest.raises(ValueError, match="never fetch"):
                fastjsonschema.compile({"$ref": scheme_url}, handlers=_NoHandlers())
        assert host.requests == []


@pytest.mark.parametrize("levels", [MAX_DEPTH, 600])  # 600: checking it used to recurse too deep
def test_a_schema_nested_too_deep_is_refused_with_its_path(levels):
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"items": schema}
    with pytest.raises(PolicyError, match=rf"nests deeper than {MAX_DEPTH} levels") as refused:
        effective_document(inline(schema), [], None)
    assert f"$.{'items.' * MAX_DEPTH}" in str(refused.value)


def test_a_schema_nested_to_the_limit_is_used():
    schema: dict = {"type": "string"}
    for _ in range(MAX_DEPTH - 1):
        schema = {"items": schema}
    conn = start(inline(schema))
    deep_ok = "[" * (MAX_DEPTH - 1) + '"x"' + "]" * (MAX_DEPTH - 1)
    assert verdict(conn, deep_ok) is None
    assert verdict(conn, deep_ok.replace('"x"', "1")).action == "close"


def test_json_nested_too_deeply_in_a_schema_is_a_clear_error():
    deep = "[" * 100_000 + "]" * 100_000
    xml = on_message(f"<validate-message><schema>{deep}</schema></validate-message>")
    with pytest.raises(PolicyError, match="is not JSON: nested too deeply"):
        effective_document(xml, [], None)
