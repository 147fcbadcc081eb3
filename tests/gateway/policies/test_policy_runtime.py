"""Evaluating check-header, ip-filter, set-header/query, backend, return-response, expressions."""

# ruff: noqa: E501 - policy XML is clearer on one line

from __future__ import annotations

import asyncio

import pytest
from policy_helpers import inbound, make_ctx, run_policy

from gateway.policies import (
    Change,
    HandshakeContext,
    PolicyError,
    PolicyRuntime,
    apply_changes,
    compile_policy,
    effective_document,
    parse_document,
)


def pipeline(xml: str, runtime: PolicyRuntime | None = None):
    return compile_policy(effective_document(xml, [], None), runtime or PolicyRuntime())


def run(xml: str, ctx: HandshakeContext, runtime: PolicyRuntime | None = None):
    return asyncio.run(pipeline(xml, runtime).run(ctx))


CHECK = inbound(
    '<check-header name="X-Client" failed-check-httpcode="403" '
    'failed-check-error-message="bad client" ignore-case="true">'
    "<value>web</value><value>@(context.Subscription.Name)</value></check-header>"
)


def test_check_header_allows_and_refuses():
    assert run_policy(CHECK, headers=[("x-client", "WEB")]) is None
    assert run_policy(CHECK, headers=[("X-Client", "mine")], subscription_name="Mine") is None
    refusal = run_policy(CHECK, headers=[("X-Client", "other")])
    assert refusal is not None and (refusal.status, refusal.message) == (403, "bad client")
    assert run_policy(CHECK, headers=[]).status == 403  # type: ignore[union-attr]
    exact = inbound(
        '<check-header name="X-Client" failed-check-httpcode="401" '
        'failed-check-error-message="no" ignore-case="false"><value>web</value></check-header>'
    )
    assert run_policy(exact, headers=[("X-Client", "WEB")]).status == 401  # type: ignore[union-attr]
    presence = inbound('<check-header name="X-Client" failed-check-httpcode="401" />')
    assert run_policy(presence, headers=[("X-Client", "x")]) is None


IPV4 = inbound(
    '<ip-filter action="allow"><address>203.0.113.10</address>'
    '<address-range from="10.0.0.0" to="10.0.0.255" /></ip-filter>'
)
IPV6 = inbound(
    '<ip-filter action="forbid"><address>2001:db8::1</address>'
    '<address-range from="2001:db8:1::" to="2001:db8:1::ffff" /></ip-filter>'
)


def test_ip_filter_ipv4_allow():
    assert run_policy(IPV4, peer_ip="203.0.113.10") is None
    assert run_policy(IPV4, peer_ip="10.0.0.200") is None
    assert run_policy(IPV4, peer_ip="10.0.1.1").status == 403  # type: ignore[union-attr]
    assert run_policy(IPV4, peer_ip="::ffff:10.0.0.5") is None


def test_ip_filter_ipv6_forbid():
    assert run_policy(IPV6, peer_ip="2001:db8::1").status == 403  # type: ignore[union-attr]
    assert run_policy(IPV6, peer_ip="2001:db8:1::42").status == 403  # type: ignore[union-attr]
    assert run_policy(IPV6, peer_ip="2001:db8:2::1") is None
    assert run_policy(IPV6, peer_ip="192.0.2.1") is None


def test_spoofed_forwarded_for_ignored_from_untrusted_peer():
    rt = PolicyRuntime(trusted_proxies=["192.168.0.0/16"])
    spoofed = [("X-Forwarded-For", "203.0.113.10")]
    # Untrusted peer claims to forward for an allowed address: ignored.
    assert run_policy(IPV4, rt, peer_ip="198.51.100.9", headers=spoofed).status == 403  # type: ignore[union-attr]
    # The same header from a trusted proxy is honoured.
    assert run_policy(IPV4, rt, peer_ip="192.168.1.1", headers=spoofed) is None
    # Behind a trusted proxy, a client-forged left-most hop does not win over the real one.
    forged = [("X-Forwarded-For", "203.0.113.10, 198.51.100.9")]
    assert run_policy(IPV4, rt, peer_ip="192.168.1.1", headers=forged).status == 403  # type: ignore[union-attr]
    chain = [("X-Forwarded-For", "203.0.113.10"), ("X-Forwarded-For", "192.168.5.5")]
    assert run_policy(IPV4, rt, peer_ip="192.168.1.1", headers=chain) is None


def test_client_ip_resolution():
    rt = PolicyRuntime(trusted_proxies=["10.0.0.0/8", "fd00::/8"])
    assert rt.client_ip("10.1.1.1", [("x-forwarded-for", "2001:db8::5, 10.2.2.2")]) == "2001:db8::5"
    assert rt.client_ip("fd00::1", [("X-Forwarded-For", "198.51.100.1")]) == "198.51.100.1"
    assert rt.client_ip("10.1.1.1", []) == "10.1.1.1"
    assert rt.client_ip("10.1.1.1", [("X-Forwarded-For", "garbage")]) == "10.1.1.1"
    assert PolicyRuntime().client_ip("10.1.1.1", [("X-Forwarded-For", "1.2.3.4")]) == "10.1.1.1"


def test_set_header_and_query_effects():
    xml = inbound(
        '<set-header name="X-Sub" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>'
        '<set-header name="X-Keep" exists-action="skip"><value>new</value></set-header>'
        '<set-header name="X-New" exists-action="skip"><value>new</value></set-header>'
        '<set-header name="X-List" exists-action="append"><value>b</value></set-header>'
        '<set-header name="X-Secret" exists-action="delete" />'
        '<set-query-parameter name="tenant" exists-action="override"><value>@(context.Api.Name)</value></set-query-parameter>'
        '<set-query-parameter name="debug" exists-action="delete" />'
        '<set-query-parameter name="v" exists-action="skip"><value>2</value></set-query-parameter>'
    )
    headers = [("X-Keep", "old"), ("x-list", "a"), ("X-Secret", "s"), ("X-Sub", "forged")]
    ctx = make_ctx(headers=headers, query=[("debug", "1"), ("v", "1")])
    assert run(xml, ctx) is None
    assert ctx.backend_headers == [
        Change("set", "X-Sub", ("sub-1",)),
        Change("set", "X-New", ("new",)),
        Change("append", "X-List", ("b",)),
        Change("delete", "X-Secret"),
    ]
    out = apply_changes(headers, ctx.backend_headers)
    assert out == [
        ("X-Keep", "old"),
        ("x-list", "a"),
        ("X-Sub", "sub-1"),
        ("X-New", "new"),
        ("X-List", "b"),
    ]
    assert apply_changes(ctx.query, ctx.backend_query, case_insensitive=False) == [
        ("v", "1"),
        ("tenant", "chat"),
    ]


def test_skip_looks_at_what_is_forwarded_not_at_every_client_header():
    """A client header the gateway never forwards (the key header) does not make skip skip."""
    xml = inbound(
        '<set-header name="Ocp-Apim-Subscription-Key" exists-action="skip"><value>k</value></set-header>'
        '<set-header name="X-Tenant" exists-action="skip"><value>default</value></set-header>'
    )
    client = [("ocp-apim-subscription-key", "secret"), ("x-tenant", "acme")]
    ctx = make_ctx(headers=client, forwarded_headers=[("x-tenant", "acme")])
    assert run(xml, ctx) is None
    assert ctx.backend_headers == [Change("set", "Ocp-Apim-Subscription-Key", ("k",))]


def test_set_backend_service_and_return_response():
    xml = inbound('<set-backend-service base-url="wss://other.example/ws" />')
    ctx = make_ctx()
    assert run(xml, ctx) is None and ctx.backend_url == "wss://other.example/ws"
    xml = inbound(
        '<return-response><set-status code="503" reason="Maintenance" />'
        '<set-header name="Retry-After" exists-action="override"><value>600</value></set-header>'
        '<set-body>{"down": true}</set-body></return-response>'
        '<set-backend-service base-url="wss://never.example/" />'
    )
    ctx = make_ctx()
    refusal = run(xml, ctx)
    assert refusal is not None
    assert (refusal.status, refusal.message, refusal.headers, refusal.body) == (
        503,
        "Maintenance",
        {"Retry-After": "600"},
        '{"down": true}',
    )
    assert ctx.backend_url is None  # stopped at the first refusal


def test_expressions_evaluate_against_context():
    xml = inbound(
        '<set-variable name="tenant" value=\'@(context.Request.Headers.GetValueOrDefault("X-Tenant","none"))\' />'
        '<set-header name="A"><value>@(context.Variables["tenant"])</value></set-header>'
        '<set-header name="B"><value>@(context.Request.Headers.GetValueOrDefault("X-Missing","dflt"))</value></set-header>'
        '<set-header name="C"><value>@(context.Product.Name)</value></set-header>'
        '<set-header name="D"><value>@(context.Request.IpAddress)</value></set-header>'
        '<set-header name="E"><value>@(context.Deployment.Region)</value></set-header>'
        '<set-header name="F"><value>@(context.User.Id)</value></set-header>'
        '<set-header name="G"><value>@(context.Subscription.Key)</value></set-header>'
    )
    ctx = make_ctx(
        headers=[("x-tenant", "acme")], product_names=["Gold"], user_id="u1", subscription_key="k"
    )
    assert run(xml, ctx, PolicyRuntime(region="eu-west")) is None
    got = {c.name: c.values[0] for c in ctx.backend_headers}
    assert got == {
        "A": "acme",
        "B": "dflt",
        "C": "Gold",
        "D": "198.51.100.7",
        "E": "eu-west",
        "F": "u1",
        "G": "k",
    }


def test_header_values_that_cannot_be_sent_refuse_the_handshake():
    """Issue 12 item 12: 400 for the client's data, 502 for configuration; logged escaped."""
    from_header = inbound(
        '<set-header name="X-Tenant" exists-action="override">'
        '<value>@(context.Request.Headers.GetValueOrDefault("X-Raw", ""))</value></set-header>'
    )
    for bad in ("a\r\nX-Injected: 1", "名前", "nul\x00"):
        refusal = run(from_header, make_ctx(headers=[("x-raw", bad)]))
        assert refusal is not None and refusal.status == 400, bad
        assert "X-Tenant" in refusal.message and bad not in refusal.message
        assert ascii(bad)[1:-1] in refusal.detail and "\n" not in refusal.detail
    assert run(from_header, make_ctx(headers=[("x-raw", "Zoë\tok")])) is None

    from_name = inbound(
        '<return-response><set-status code="403"/><set-header name="X-Who" exists-action="override">'
        "<value>@(context.Subscription.Name)</value></set-header></return-response>"
    )
    refusal = run(from_name, make_ctx(subscription_name="Bob\nFORGED"))
    assert (refusal.status, refusal.message) == (
        502,
        "The policy produced an invalid header value (X-Who).",
    )
    assert run(from_name, make_ctx(subscription_name="Bob")).headers == {"X-Who": "Bob"}


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ('<set-header name="X-A"><value>line&#10;break</value></set-header>', "line break"),
        ('<set-header name="X-A"><value>名前</value></set-header>', "Latin-1"),
        ('<set-header name="X A"><value>v</value></set-header>', "HTTP header name"),
        (
            '<return-response><set-status code="403"/><set-header name="X-A">'
            "<value>a&#13;b</value></set-header></return-response>",
            "line break",
        ),
    ],
)
def test_header_literals_that_cannot_be_sent_are_refused_at_save(policy, fragment):
    with pytest.raises(PolicyError, match=fragment):
        parse_document(inbound(policy))


def test_query_parameters_may_carry_any_text():
    xml = inbound(
        '<set-query-parameter name="who" exists-action="override">'
        "<value>@(context.Subscription.Name)</value></set-query-parameter>"
    )
    ctx = make_ctx(subscription_name="名前\n")
    assert run(xml, ctx) is None
    assert ctx.backend_query == [Change("set", "who", ("名前\n",))]
