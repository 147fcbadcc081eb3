"""429 and 503 are retried as Retry-After says, within a bound of attempts and of total wait.

A scripted HTTP server on a loopback port answers 429/503 on demand (the management API has no
throttle to trigger): the SDK talks to it over TCP, as to Portico. The figures checked are
request counts, never durations.
"""

from email.utils import formatdate

import pytest

from portico_client import AsyncPorticoClient, PorticoClient, PorticoError, RetryPolicy
from portico_client.retry import parse_retry_after
from tests.support.client import run
from tests.support.scripted_http import Answer, ScriptedServer

GATEWAY = {"id": 1, "name": "edge", "kind": "self_hosted", "apis": [], "status": "online"}
OK = Answer(200, GATEWAY)
FAST = RetryPolicy(max_attempts=4, max_total_wait=2.0, backoff=0.05)


def refusal(status: int, retry_after: str | None = None) -> Answer:
    body = {"status": status, "errors": [{"field": None, "message": "Slow down.", "code": "x"}]}
    return Answer(status, body, {"Retry-After": retry_after} if retry_after else None)


def test_429_is_retried_after_the_seconds_retry_after_names():
    with ScriptedServer([refusal(429, "0"), refusal(429, "1")], OK) as server:
        with PorticoClient(server.url, "pat_x", retry=FAST) as client:
            gateway = client.gateways.get("edge")
    assert gateway.name == "edge"
    assert [s.headers["Authorization"] for s in server.seen] == ["Bearer pat_x"] * 3


def test_503_is_retried_and_gives_up_after_the_attempts_with_the_last_answer():
    with ScriptedServer([], refusal(503, "0")) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert len(server.seen) == FAST.max_attempts
    assert e.value.status == 503 and e.value.errors[0]["message"] == "Slow down."


def test_a_retry_after_past_the_wait_budget_is_not_waited_for():
    """Retry-After: 120 with a 2 s budget: raised after the first answer, no sleep."""
    with ScriptedServer([refusal(429, "120")], OK) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert e.value.status == 429 and len(server.seen) == 1


def test_other_errors_are_not_retried():
    with ScriptedServer([refusal(500)], OK) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert e.value.status == 500 and e.value.problem is not None and len(server.seen) == 1


def test_the_async_client_retries_too():
    async def scenario():
        async with AsyncPorticoClient(server.url, "t", retry=FAST) as client:
            return await client.gateways.get("edge")

    with ScriptedServer([refusal(429, "0"), refusal(503)], OK) as server:
        assert run(scenario()).name == "edge"
    assert len(server.seen) == 3


def test_retry_after_as_an_http_date():
    assert parse_retry_after(formatdate(1_000_030, usegmt=True), now=1_000_000) == 30
    assert parse_retry_after(formatdate(999_000, usegmt=True), now=1_000_000) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
