"""choose/when/otherwise and condition expressions: parse errors with line and column,
evaluation over the handshake and message data, nesting, otherwise, round-trip."""

from __future__ import annotations

import asyncio
from html import escape

import pytest
from policy_helpers import inbound, make_ctx, run_policy

from gateway.policies import (
    PolicyError,
    PolicyRuntime,
    compile_policy,
    effective_document,
    parse_document,
)
from gateway.policies.conditions import ConditionError, MessageView, parse_condition
from gateway.policies.jwt_validation import Jwt


def cond(source: str, message: tuple | None = None, **ctx_kw) -> bool:
    c = parse_condition(source, allow_message=message is not None)
    view = MessageView(*message) if message is not None else None
    return c.test(make_ctx(**ctx_kw), view)


def choose(*whens: tuple[str, str], otherwise: str | None = None) -> str:
    body = "".join(f'<when condition="{escape(c)}">{p}</when>' for c, p in whens)
    if otherwise is not None:
        body += f"<otherwise>{otherwise}</otherwise>"
    return f"<choose>{body}</choose>"


def refuse(status: int) -> str:
    return f'<return-response><set-status code="{status}"/></return-response>'


HEADERS = [("X-Plan", "gold"), ("X-Count", "12")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('@(context.Request.Headers.GetValueOrDefault("x-plan", "") == "gold")', True),
        ('@(context.Request.Headers.GetValueOrDefault("X-None", "none") == "none")', True),
        ('@(context.Request.Headers.GetValueOrDefault("X-Plan") != "gold")', False),
        ('@(context.Request.Headers.GetValueOrDefault("X-Count") > 9)', True),  # numeric
        ('@(context.Request.Headers.GetValueOrDefault("X-Count") <= 11)', False),
        ('@("abc" < "abd" && 2 >= 2)', True),
        ('@(!(1 == 1) || "x".Equals("x"))', True),
        ("@(!true || false)", False),
        ("@(1 == 2 || 2 == 2 && 3 == 4)", False),  # && binds tighter than ||
        ('@(context.Request.Headers.GetValueOrDefault("X-Plan").StartsWith("go"))', True),
        ('@(context.Request.Headers.GetValueOrDefault("X-Plan").EndsWith("ld"))', True),
        ('@(context.Request.Headers.GetValueOrDefault("X-Plan").ToUpper().Contains("OL"))', True),
        ('@(context.Request.Url.Query.GetValueOrDefault("room", "lobby") == "dev")', True),
        ('@(context.Request.Url.Query.GetValueOrDefault("other", "x") == "x")', True),
        ('@(context.Request.Url.Host == "api.example.com")', True),
        ('@(context.Request.Url.Host.EndsWith(".example.org"))', False),
        ('@(context.Subscription.Id == "sub-1" && context.Subscription.Name == "team")', True),
        ('@(context.Product.Name == "gold-plan" && context.User.Id == "42")', True),
        ('@(context.Api.Name == "chat" && context.Request.IpAddress.StartsWith("198."))', True),
        ('@(context.Variables.GetValueOrDefault("tier", "none") == "none")', True),
        ('@(context.Variables.ContainsKey("tier"))', False),
        ('@(context.Variables["missing"] == null)', True),
        ('@(context.Request.Headers.GetValueOrDefault("X-Plan").Trim().Length == 4)', True),
    ],
)
def test_conditions_over_the_handshake(source, expected):
    ctx = {
        "headers": HEADERS,
        "query": [("room", "dev")],
        "subscription_name": "team",
        "product_names": ["gold-plan"],
        "user_id": "42",
        "host": "api.example.com",
    }
    assert cond(source, **ctx) is expected


def test_jwt_claims_from_output_token_variable_name():
    token = Jwt(claims={"sub": "alice", "role": "admin"}, header={}, raw="")
    variables = {"jwt": token, "n": 3}
    src = '@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("role", "") == "admin")'
    assert cond(src, variables=variables)
    assert cond('@(((Jwt)context.Variables["jwt"]).Subject.StartsWith("al"))', variables=variables)
    assert cond('@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("x", "d") == "d")')
    assert cond('@((int)context.Variables["n"] > 2)', variables=variables)
    assert cond('@((string)context.Variables.GetValueOrDefault("n") == "3")', variables=variables)


@pytest.mark.parametrize(
    ("source", "message", "expected"),
    [
        ('@(context.Message.Text.StartsWith("{"))', ('{"a": 1}', 8), True),
        ("@(context.Message.Size > 8)", ("x" * 9, 9), True),
        ("@(context.Message.IsBinary)", (b"\x00", 1), True),
        ("@(!context.Message.IsBinary)", (b"\x00", 1), False),
        ('@(context.Message.Json("user.role") == "a")', ('{"user": {"role": "a"}}', 1), True),
        ('@(context.Message.Json("items.1.n") >= 2)', ('{"items": [{"n": 1}, {"n": 2}]}', 1), True),
        ('@(context.Message.Json("$.op") == "x")', ('{"op": "x"}', 1), True),
        ('@(context.Message.Json("op") == null)', ("not json", 8), True),
        ('@(context.Message.Json("op") == "x")', (b'{"op": "x"}', 11), False),  # binary
        ('@(context.Message.Json("a.b.c") == null)', ('{"a": 5}', 8), True),
    ],
)
def test_conditions_over_a_message(source, message, expected):
    assert cond(source, message) is expected


@pytest.mark.parametrize(
    ("source", "column", "words"),
    [
        ('@(context.Request.Headers.GetValueOrDefault("a") == )', 53, "expected a value"),
        ("@(context.Requets.IpAddress)", 11, "expected Subscription, Request"),
        ('@(context.Api.Name == "x" &&)', 29, "expected a value"),
        ('@(context.Api.Name == "x)', 23, "unterminated string"),
        ("@(context.Api.Name)", 3, "must be true or false"),
        ("@(context.Api.Name && true)", 15, "needs true/false"),
        ("@(1 == 1 1)", 10, "expected an operator"),
        ("@(context.Api.Name.Reverse())", 20, "expected a string method"),
        ("@(context.Message.Size > 1)", 11, "only in <on-message>"),
        ("@(os.system)", 3, 'unknown name "os"'),
        ("@(1 == 1; 2)", 9, "unexpected character"),
        ("@()", 3, "empty"),
        ("1 == 1", 1, "@(...)"),
        ("@(context.Request.Headers.GetValueOrDefault(context.Api.Name))", 45, "string literals"),
    ],
)
def test_parse_errors_name_the_column(source, column, words):
    with pytest.raises(ConditionError) as info:
        parse_condition(source)
    assert info.value.column == column, str(info.value)
    assert words in str(info.value)


def test_document_errors_name_line_and_column():
    xml = inbound("\n<choose>\n" + '<when condition="@(1 ==)"></when></choose>')
    with pytest.raises(PolicyError) as info:
        parse_document(xml)
    err = info.value
    assert (err.line, err.column, err.attribute) == (3, 7, "condition")
    assert str(err).startswith('line 3: <when> attribute "condition": column 7:')


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("<choose><otherwise/></choose>", "at least one <when"),
        ("<choose><when/></choose>", '"condition": is required'),
        ('<choose><otherwise/><when condition="@(true)"/></choose>', "must be the last"),
        ('<choose><when condition="@(true)"><base/></when></choose>', "not allowed inside"),
        ("<choose><if/></choose>", "expected <when> or <otherwise>"),
        ('<choose><when condition="@(true)"><limit-message-size max-bytes="1"/></when></choose>',
         "put it in <on-message>"),
        ('<choose x="1"><when condition="@(true)"/></choose>', "unknown or unsupported"),
    ],
)  # fmt: skip
def test_choose_structure_errors(body, words):
    with pytest.raises(PolicyError) as info:
        parse_document(inbound(body))
    assert words in str(info.value)


def test_first_true_branch_runs_then_otherwise():
    xml = inbound(
        choose(
            ('@(context.Request.Headers.GetValueOrDefault("X-Plan", "") == "free")', refuse(402)),
            ('@(context.Request.Headers.GetValueOrDefault("X-Plan", "") != "gold")', refuse(403)),
            otherwise='<set-variable name="ok" value="yes"/>',
        )
    )
    assert run_policy(xml, headers=[("X-Plan", "free")]).status == 402
    assert run_policy(xml, headers=[("X-Plan", "silver")]).status == 403
    assert run_policy(xml, headers=[("X-Plan", "gold")]) is None


def test_no_branch_and_no_otherwise_passes():
    xml = inbound(choose(("@(false)", refuse(403))))
    assert run_policy(xml) is None


def test_nested_choose_and_variables_set_before():
    inner = choose(('@(context.Variables["tier"] == "gold")', refuse(409)), otherwise=refuse(410))
    xml = inbound(
        "<set-variable name='tier' "
        'value=\'@(context.Request.Headers.GetValueOrDefault("X-Plan", ""))\'/>'
        + choose(('@(context.Request.Url.Query.GetValueOrDefault("deep") == "1")', inner))
    )
    assert run_policy(xml, headers=[("X-Plan", "gold")], query=[("deep", "1")]).status == 409
    assert run_policy(xml, headers=[("X-Plan", "tin")], query=[("deep", "1")]).status == 410
    assert run_policy(xml, headers=[("X-Plan", "gold")]) is None


def test_round_trip_keeps_conditions_and_branches():
    xml = inbound(
        choose(
            ('@(context.Request.Headers.GetValueOrDefault("a", "<&>") == "x")', refuse(403)),
            otherwise='<set-variable name="v" value="1"/>',
        )
    )
    doc = parse_document(xml)
    assert parse_document(doc.to_xml()) == doc
    assert "&lt;&amp;&gt;" in doc.to_xml()


def on_message(inbound_body: str, outbound_body: str = "") -> str:
    return (
        f"<policies><on-message><inbound>{inbound_body}</inbound>"
        f"<outbound>{outbound_body}</outbound></on-message></policies>"
    )


DROP_ALL = '<validate-message action="drop"><schema>false</schema></validate-message>'


def start_messages(xml: str, **ctx_kw):
    pipeline = compile_policy(effective_document(xml, [], None), PolicyRuntime())
    assert pipeline.messages is not None
    return pipeline.messages.start(make_ctx(**ctx_kw))


def test_on_message_choose_drops_by_content_and_size():
    xml = on_message(
        choose(
            ('@(context.Message.Json("op") == "debug")', DROP_ALL),
            ("@(context.Message.Size > 5)", '<limit-message-size max-bytes="5"/>'),
        )
    )
    conn = start_messages(xml)
    assert asyncio.run(conn.inbound('{"op": "debug"}', 15)).action == "drop"
    assert asyncio.run(conn.inbound("hello", 5)) is None
    verdict = asyncio.run(conn.inbound("hello!", 6))
    assert (verdict.action, verdict.sender_code) == ("close", 1009)
    assert conn.outbound is None


def test_on_message_conditions_read_the_handshake_too():
    xml = on_message(
        "",
        choose(
            ('@(context.Subscription.Name == "quiet" && !context.Message.IsBinary)', DROP_ALL),
        ),
    )
    quiet, loud = start_messages(xml, subscription_name="quiet"), start_messages(xml)
    assert asyncio.run(quiet.outbound("x", 1)).action == "drop"
    assert asyncio.run(quiet.outbound(b"x", 1)) is None
    assert asyncio.run(loud.outbound("x", 1)) is None


def test_on_message_branch_counters_are_per_connection():
    limit = '<rate-limit-messages calls="1" renewal-period="60" action="drop"/>'
    xml = on_message(choose(('@(context.Message.Text == "m")', limit)))
    one, two = start_messages(xml), start_messages(xml)
    assert asyncio.run(one.inbound("m", 1)) is None
    assert asyncio.run(one.inbound("m", 1)).action == "drop"
    assert asyncio.run(one.inbound("other", 5)) is None
    assert asyncio.run(two.inbound("m", 1)) is None


def test_on_message_choose_refuses_handshake_policies():
    with pytest.raises(PolicyError) as info:
        parse_document(on_message(choose(("@(true)", refuse(403)))))
    assert "not available in <on-message>" in str(info.value)


def test_on_message_branch_with_a_shared_counter_is_awaited():
    limit = '<rate-limit-messages calls="1" renewal-period="60" action="drop" counter-key="k"/>'
    log = '<validate-message action="log"><schema>false</schema></validate-message>'
    xml = on_message(choose(('@(context.Message.Text.StartsWith("m"))', log + limit)))
    pipeline = compile_policy(effective_document(xml, [], None), PolicyRuntime())

    async def scenario():  # one event loop, as in the gateway (the memory counters need it)
        one, two = pipeline.messages.start(make_ctx()), pipeline.messages.start(make_ctx())
        got = [await one.inbound("m1", 2), await two.inbound("m2", 2), await two.inbound("x", 1)]
        return got, (one.logged, two.logged)

    (first, second, third), logged = asyncio.run(scenario())
    assert first is None
    assert second.action == "drop"  # one counter for key "k", shared by both connections
    assert third is None  # no branch taken
    assert logged == (1, 1)  # the log verdict went on to the limit


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(ConditionError) as info:
        parse_condition("@(" + "(" * 500 + "true" + ")" * 500 + ")")
    assert "nested more than 32" in str(info.value)
    with pytest.raises(ConditionError):
        parse_condition("@(" + "(string)" * 5000 + '"x" == "x")')
    assert cond("@(" + "!" * 30 + "true)")  # an even count of "!" within the limit
    deep = "@(true)"
    body = refuse(403)
    for _ in range(9):
        body = choose((deep, body))
    with pytest.raises(PolicyError) as err:
        parse_document(inbound(body))
    assert "at most 8 levels" in str(err.value)
    eight = refuse(403)
    for _ in range(8):
        eight = choose((deep, eight))
    assert run_policy(inbound(eight)).status == 403


def test_user_email_in_conditions():
    source = '@(context.User.Email.EndsWith("@example.com"))'
    assert cond(source, user_email="ann@example.com")
    assert not cond(source, user_email="ann@other.org")
    assert not cond(source)  # no owner (or not sent to this node): ""
    assert cond('@(context.User.Email == "")')


def test_the_client_certificate_in_conditions():
    """context.Request.Certificate: null without one, its members as text (issue 27 item 4)."""
    from gateway.policies.clientcert import ClientCertificate
    from tests.support.certs import issue, make_ca

    leaf = issue(make_ca(), "device-7", client=True)
    present = {"client_certificate": ClientCertificate(leaf.cert_pem)}
    source = (
        "@(context.Request.Certificate != null"
        ' && context.Request.Certificate.CommonName.StartsWith("device-"))'
    )
    assert cond(source, **present) is True
    assert cond(source) is False
    assert cond(f'@(context.Request.Certificate.Thumbprint == "{leaf.thumbprint}")', **present)
    assert cond('@(context.Request.Certificate.Subject == "")')
    with pytest.raises(ConditionError):
        parse_condition("@(context.Request.Certificate.Password == 1)")
