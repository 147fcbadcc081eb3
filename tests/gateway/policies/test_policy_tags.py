"""set-connection-tag: parsed and checked at save time, evaluated at the handshake (at most 8
tags, values cut to 100 characters, never the subscription key)."""

# ruff: noqa: E501 - policy XML is clearer on one line
from __future__ import annotations

import asyncio

import pytest
from policy_helpers import inbound, make_ctx, new_prefix

from gateway.policies import (
    PolicyError,
    PolicyRuntime,
    compile_policy,
    effective_document,
    parse_document,
)


def tags_of(body: str, **ctx_kw) -> dict[str, str]:
    runtime = PolicyRuntime(key_prefix=new_prefix())
    pipeline = compile_policy(effective_document(inbound(body), [], None), runtime)
    ctx = make_ctx(**ctx_kw)
    assert asyncio.run(pipeline.run(ctx)) is None
    return ctx.connection_tags


def test_tags_come_from_text_headers_and_variables():
    tags = tags_of(
        '<set-variable name="team" value="blue" />'
        '<set-connection-tag name="room" value=\'@(context.Request.Headers.GetValueOrDefault("X-Room", "lobby"))\' />'
        '<set-connection-tag name="team" value=\'@(context.Variables["team"])\' />'
        '<set-connection-tag name="plan" value="gold" />',
        headers=[("X-Room", "kitchen")],
    )
    assert tags == {"room": "kitchen", "team": "blue", "plan": "gold"}


def test_at_most_eight_tags_and_values_cut_to_100_characters():
    body = "".join(f'<set-connection-tag name="t{n}" value="v{n}" />' for n in range(10))
    body += '<set-connection-tag name="t0" value="' + "x" * 150 + '" />'  # an existing one: set
    tags = tags_of(body)
    assert list(tags) == [f"t{n}" for n in range(8)]
    assert tags["t0"] == "x" * 100


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ('<set-connection-tag name="bad name" value="x" />', "tag name"),
        ('<set-connection-tag name="" value="x" />', "name"),
        ('<set-connection-tag name="k" value="@(context.Subscription.Key)" />', "subscription key"),
        ('<set-connection-tag name="room" />', "value"),
    ],
)
def test_save_time_refusals(element, message):
    with pytest.raises(PolicyError) as info:
        parse_document(inbound(element), "api")
    assert message in str(info.value)
