"""onMessage policies in the library: parse with line numbers, round-trip, scopes, checks."""

from __future__ import annotations

import asyncio

import pytest

from gateway.policies import (
    PolicyError,
    PolicyRuntime,
    compile_policy,
    effective_document,
    parse_document,
)
from gateway.policies.messages import truncate


def on_message(inbound: str = "", outbound: str | None = None) -> str:
    out = "" if outbound is None else f"<outbound>{outbound}</outbound>"
    return f"<policies><on-message><inbound>{inbound}</inbound>{out}</on-message></policies>"


SIZE = '<limit-message-size max-bytes="10"/>'


def start(xml: str, schemas: dict | None = None, *, scope_docs=None):
    effective = effective_document(xml, *(scope_docs or ([], None)))
    pipeline = compile_policy(effective, PolicyRuntime(), message_schemas=schemas)
    assert pipeline.messages is not None
    return pipeline.messages.start(None)


def run(coro):
    return asyncio.run(coro)


def test_round_trip_keeps_both_directions():
    xml = on_message(
        f"<base/>{SIZE}",
        '<rate-limit-messages calls="5" renewal-period="2" counter-key="@(context.Subscription.Id)"'
        ' action="drop"/><validate-message schema-source="asyncapi" action="log"/>',
    )
    doc = parse_document(xml)
    assert parse_document(doc.to_xml()) == doc
    assert "<on-message>" in doc.to_xml()
    assert len(doc.on_message_outbound) == 2


def test_no_on_message_policies_compile_to_nothing():
    for xml in ("", "<policies><inbound/></policies>", on_message("<base/>", "")):
        pipeline = compile_policy(effective_document(xml, [], None), PolicyRuntime())
        assert pipeline.messages is None  # the relay keeps its plain loops
        assert not pipeline


@pytest.mark.parametrize(
    ("xml", "line", "words"),
    [
        (f"<policies>\n<inbound>\n{SIZE}</inbound></policies>", 3, "put it in <on-message>"),
        (
            '<policies><on-message>\n<inbound>\n<rate-limit calls="1" renewal-period="1"/>'
            "</inbound></on-message></policies>",
            3,
            "not available in <on-message>",
        ),
        ("<policies>\n<on-message><backend/></on-message></policies>", 2, "expected <inbound>"),
        (
            "<policies><on-message>\n\n<inbound><validate-message>\n<schema>{nope</schema>"
            "</validate-message></inbound></on-message></policies>",
            4,
            "is not JSON",
        ),
        (
            '<policies><on-message><inbound><validate-message>\n<schema>{"type": 3}</schema>'
            "</validate-message></inbound></on-message></policies>",
            2,
            "not a valid JSON Schema at type",
        ),
        (on_message('<rate-limit-messages calls="1" renewal-period="1" action="x"/>'), 1, "one of"),
        (on_message('<limit-message-size max-bytes="0"/>'), 1, "positive integer"),
        (on_message("<base/><base/>"), 1, "at most once"),
    ],
)
def test_errors_name_the_line(xml, line, words):
    with pytest.raises(PolicyError) as caught:
        parse_document(xml)
    assert caught.value.line == line
    assert words in str(caught.value)


def test_base_merges_product_and_global_message_policies():
    api = on_message('<base/><rate-limit-messages calls="1" renewal-period="60"/>')
    product = on_message(f"<base/>{SIZE}")
    glob = on_message('<validate-message><schema>{"type": "object"}</schema></validate-message>')
    merged = effective_document(api, [product], glob).document
    assert [p.tag for p in merged.on_message_inbound] == [
        "validate-message",
        "limit-message-size",
        "rate-limit-messages",
    ]
    without_base = effective_document(on_message(SIZE), [product], glob).document
    assert [p.tag for p in without_base.on_message_inbound] == ["limit-message-size"]


def test_limit_message_size_counts_bytes():
    conn = start(on_message(SIZE))
    assert run(conn.inbound("x", 10)) is None
    verdict = run(conn.inbound("x", 11))
    assert (verdict.action, verdict.sender_code, verdict.other_code) == ("close", 1009, 1001)
    assert conn.outbound is None  # nothing to do that way


def test_rate_limit_messages_per_connection():
    xml = on_message('<rate-limit-messages calls="2" renewal-period="60" action="drop"/>')
    one, two = start(xml), start(xml)
    assert [run(one.inbound("m", 1)) for _ in range(3)][:2] == [None, None]
    assert run(one.inbound("m", 1)).action == "drop"
    assert run(two.inbound("m", 1)) is None  # its own counter


def test_rate_limit_messages_shared_counter_key():
    xml = on_message('<rate-limit-messages calls="2" renewal-period="60" counter-key="k"/>')
    pipeline = compile_policy(effective_document(xml, [], None), PolicyRuntime())

    async def scenario():
        one, two = pipeline.messages.start(None), pipeline.messages.start(None)
        return [await one.inbound("m", 1), await two.inbound("m", 1), await one.inbound("m", 1)]

    first, second, third = run(scenario())
    assert first is None and second is None
    assert (third.action, third.sender_code) == ("close", 1008)


def test_validate_message_actions_and_binary():
    schema = '{"type": "object", "properties": {"n": {"type": "integer"}}}'
    for action in ("close", "drop", "log"):
        xml = on_message(
            f'<validate-message action="{action}"><schema>{schema}</schema></validate-message>'
        )
        conn = start(xml)
        assert run(conn.inbound('{"n": 1}', 8)) is None
        assert run(conn.inbound(b"\x00", 1)) is None  # binary passes
        verdict = run(conn.inbound('{"n": "x"}', 10))
        if action == "close":
            assert (verdict.sender_code, verdict.reason) == (
                1007,
                '$.n: fails "type"',
            )
        elif action == "drop":
            assert verdict.action == "drop"
        else:
            assert verdict is None and conn.logged == 1 and conn.first_logged.startswith("$.n")
        if action == "close":
            assert run(conn.inbound("{not json", 9)).reason == "not JSON"


def test_validate_message_asyncapi_by_direction():
    xml = on_message(
        '<validate-message schema-source="asyncapi"/>',
        '<validate-message schema-source="asyncapi"/>',
    )
    schemas = {"send": [{"required": ["a"]}, {"required": ["b"]}], "receive": []}
    conn = start(xml, schemas)
    assert run(conn.inbound('{"b": 1}', 8)) is None  # matches one of the send messages
    assert run(conn.inbound('{"c": 1}', 8)).sender_code == 1007
    assert run(conn.outbound('{"a": 1}', 8)).sender_code == 1007  # nothing may be received


def test_validate_message_asyncapi_without_contract_does_not_compile():
    xml = on_message('<validate-message schema-source="asyncapi"/>')
    with pytest.raises(PolicyError, match="no AsyncAPI contract"):
        compile_policy(effective_document(xml, [], None), PolicyRuntime())


def test_close_reason_fits_a_close_frame():
    assert len(truncate("é" * 500).encode()) <= 123
    assert truncate("short") == "short"


SCHEMAS = [
    {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 1}}},
    {"type": "array", "items": {"type": "string", "maxLength": 2}, "uniqueItems": True},
    {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]},
    {"type": "object", "additionalProperties": False, "properties": {"x": {"const": 1}}},
    {"prefixItems": [{"type": "integer"}], "items": False},  # 2020-12 only: the reference
    {"$defs": {"n": {"type": "integer"}}, "properties": {"n": {"$ref": "#/$defs/n"}}},
]
INSTANCES = [{"n": 1}, {"n": 0}, {"n": True}, {"n": 1.0}, ["ab", "ab"], ["abc"], ["a"], "abc",
             "b", None, {"x": 1}, {"x": 1, "y": 2}, [1], [1, 2], ["x"], {"n": "1"}, 3]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_fast_checks_agree_with_the_reference_validator(schema):
    from jsonschema import Draft202012Validator

    from gateway.policies.jsonschemas import compile_check

    check = compile_check(schema)
    reference = Draft202012Validator(schema)
    for instance in INSTANCES:
        assert (check(instance) is None) == reference.is_valid(instance), instance


def test_only_draft_7_compatible_schemas_take_the_fast_path():
    from gateway.policies.jsonschemas import _draft7_compatible

    assert [_draft7_compatible(s) for s in SCHEMAS] == [True, True, True, True, False, False]


def test_deep_json_fails_without_crashing_and_reasons_show_no_values():
    schema = '{"type": "array", "items": {"type": "integer"}}'
    xml = on_message(f"<validate-message><schema>{schema}</schema></validate-message>")
    conn = start(xml)
    secret = '["s3cr3t-value"]'
    assert "s3cr3t" not in run(conn.inbound(secret, len(secret))).reason  # values never shown
    deep = "[" * 100_000 + "]" * 100_000
    assert run(conn.inbound(deep, len(deep))).sender_code == 1007


def test_shared_message_counter_with_the_store_down_closes_1011_or_fails_open():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    xml = on_message('<rate-limit-messages calls="5" renewal-period="60" counter-key="k"/>')
    for fail_open, expected in ((False, 1011), (True, None)):
        runtime = PolicyRuntime(dead, counter_timeout=0.2, counters_fail_open=fail_open)
        pipeline = compile_policy(effective_document(xml, [], None), runtime)

        async def scenario(pipeline=pipeline):
            return await pipeline.messages.start(None).inbound("m", 1)

        verdict = run(scenario())
        assert (verdict.sender_code if verdict else None) == expected


LOG = (
    '<log-messages sampling-percentage="100" max-bytes="60">'
    '<redact path="$.token"/><redact path="$.items[*].pin"/></log-messages>'
)


def test_log_messages_round_trips_and_refuses_bad_attributes():
    doc = parse_document(on_message(LOG))
    assert parse_document(doc.to_xml()) == doc
    for bad, words in (
        ('<log-messages sampling-percentage="0"/>', "above 0"),
        ('<log-messages max-bytes="99999"/>', "at most 4096"),
        ('<log-messages><redact path="token"/></log-messages>', "JSON path"),
        ('<log-messages><redact path="$.a..b"/></log-messages>', "empty step"),
    ):
        with pytest.raises(PolicyError, match=words):
            parse_document(on_message(bad))


def test_log_messages_samples_redacted_cut_and_bounded():
    conn = start(on_message(LOG, LOG))
    secret = '{"token": "s3cr3t", "items": [{"pin": 1234, "n": 1}], "note": "ok"}'
    assert run(conn.inbound(secret, len(secret))) is None  # never stops a message
    run(conn.outbound(b"\x00" * 9, 9))
    run(conn.inbound("not json", 8))
    first, binary, not_json = conn.samples
    assert first["direction"] == "up" and first["size"] == len(secret)
    assert "s3cr3t" not in first["text"] and "1234" not in first["text"]
    assert first["text"].startswith('{"token": "[redacted]", "items": [{"pin": "[redacted]"')
    assert len(first["text"].encode()) <= 60 + 3  # cut at max-bytes, plus the ellipsis
    assert (binary["direction"], binary["text"]) == ("down", "(binary, 9 bytes)")
    assert "not shown" in not_json["text"]
    for _ in range(50):
        run(conn.inbound("{}", 2))
    assert len(conn.samples) == 20  # bounded per connection


def test_log_messages_sampling_keeps_about_the_share_asked():
    conn = start(on_message('<log-messages sampling-percentage="10"/>'))
    kept = 0
    for _ in range(20):
        conn.samples.clear()
        for _ in range(19):
            run(conn.inbound("m", 1))
        kept += len(conn.samples)
    assert 0 < kept < 200  # 10 % of 380 messages: some, never all


def header_only(xml: str):
    return compile_policy(effective_document(xml, [], None), PolicyRuntime()).messages.header_only


def test_size_and_per_connection_rate_limits_have_a_header_only_plan_in_policy_order():
    rate = '<rate-limit-messages calls="3" renewal-period="2" action="drop"/>'
    big = '<limit-message-size max-bytes="500"/>'
    inbound, outbound = header_only(on_message(f"{big}{SIZE}{rate}{big}", f"<base/>{SIZE}"))
    assert (inbound.before, inbound.after, inbound.calls, inbound.period) == (10, 500, 3, 2.0)
    assert inbound.over.action == "drop"
    assert (inbound.too_big.sender_code, inbound.too_big.reason) == (1009, "message too big")
    assert (outbound.before, outbound.calls, outbound.over) == (10, 0, None)
    close = header_only(on_message('<rate-limit-messages calls="1" renewal-period="5"/>'))[0]
    assert (close.over.sender_code, close.over.other_code, close.over.reason) == (
        1008,
        1001,
        "message rate limit exceeded (1 per 5 s)",
    )
    assert header_only(on_message(SIZE))[1] is None  # no policies that way: nothing to do


@pytest.mark.parametrize(
    "payload_reading",
    [
        '<validate-message action="log"><schema>{}</schema></validate-message>',
        '<log-messages sampling-percentage="10" max-bytes="64"/>',
        '<rate-limit-messages calls="2" renewal-period="60" counter-key="k"/>',
        '<rate-limit-messages calls="2" renewal-period="60"/>'
        '<rate-limit-messages calls="9" renewal-period="1"/>',
        f'<choose><when condition="@(context.Message.Size &gt; 4)">{SIZE}</when></choose>',
    ],
)
def test_any_other_message_policy_in_either_direction_has_no_header_only_plan(payload_reading):
    assert header_only(on_message(SIZE, payload_reading)) is None
    assert header_only(on_message(payload_reading, SIZE)) is None
