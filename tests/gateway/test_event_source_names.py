"""The `source` object's names and patterns per broker (gateway/catalog/eventsource.py), and
the subscribe expressions that join parts with "+" (gateway/policies/conditions.py)."""

import pytest

from gateway.catalog.eventsource import (
    MQTT,
    NATS,
    REDIS,
    SourceError,
    backend_kind,
    concrete_name,
    name_allowed,
    read_source,
)
from gateway.policies import HandshakeContext
from gateway.policies.conditions import ConditionError, parse_condition, parse_text_expression


@pytest.mark.parametrize(
    ("kind", "name", "patterns", "allowed"),
    [
        (REDIS, "prices.btc", ("prices.*",), True),
        (REDIS, "orders.btc", ("prices.*",), False),
        (REDIS, "prices.b", ("prices.?",), True),
        (NATS, "prices.btc", ("prices.*",), True),
        (NATS, "prices.btc.usd", ("prices.*",), False),
        (NATS, "prices.btc.usd", ("prices.>",), True),
        (NATS, "prices", ("prices.>",), False),
        (MQTT, "sensors/t1/temp", ("sensors/+/temp",), True),
        (MQTT, "sensors/t1/humidity", ("sensors/+/temp",), False),
        (MQTT, "sensors", ("sensors/#",), True),  # '#' also matches the parent level
        (MQTT, "sensors/a/b", ("sensors/#",), True),
        (MQTT, "other/a", ("sensors/#", "other/+"), True),
    ],
)
def test_allow_patterns_per_broker(kind, name, patterns, allowed):
    assert name_allowed(kind, name, patterns) is allowed


@pytest.mark.parametrize(
    ("kind", "name"), [(NATS, "a.*"), (NATS, "a..b"), (MQTT, "a/#"), (MQTT, "a/+/b"), (REDIS, "")]
)
def test_an_evaluated_name_with_a_wildcard_or_empty_is_refused(kind, name):
    assert concrete_name(kind, name) is not None


def test_backend_kinds_by_scheme_and_defaults_of_the_source():
    assert [backend_kind(u) for u in ("wss://h", "rediss://h", "nats://h", "mqtts://h")] == [
        "websocket",
        "redis",
        "nats",
        "mqtt",
    ]
    source = read_source(REDIS, {"subscribe": " s "})
    assert (source.subscribe, source.envelope, source.overflow, source.queue) == (
        "s",
        True,
        "drop-oldest",
        256,
    )
    with pytest.raises(SourceError) as refused:
        read_source(REDIS, {"subscribe": "s", "envelope": "yes"})
    assert refused.value.field == "source.envelope"


def test_text_expressions_join_parts_and_conditions_still_refuse_plus():
    expression = parse_text_expression(
        '@("t." + context.Variables["tenant"] + "." + context.Api.Name)'
    )
    ctx = HandshakeContext(api_name="prices", variables={"tenant": "acme"})
    assert expression.evaluate(ctx) == "t.acme.prices"
    with pytest.raises(ConditionError):
        parse_condition('@("a" + "b" == "ab")')
    with pytest.raises(ConditionError):
        parse_text_expression('@("a" +)')
