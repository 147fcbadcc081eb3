"""Counter policies on a real Redis while the gateway's own event loop is saturated.

A busy loop must never make a healthy store look down (no 503 for a legitimate handshake),
and a store that really is slow must still answer 503, busy loop or not.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from policy_helpers import inbound, make_ctx, new_prefix

from gateway.policies import PolicyRuntime, compile_policy, effective_document
from gateway.policies.store_deadline import store_deadline
from tests.support.redis_server import RedisServer

TIMEOUT = 0.1  # the counter timeout; the loop below stays busy for longer than this at a time
BUSY_STRETCH = 0.25  # seconds each burst of synchronous work holds the loop
HANDSHAKES = 12

POLICIES = {
    "rate-limit": inbound(f'<rate-limit calls="{HANDSHAKES}" renewal-period="60"/>'),
    "quota": inbound(f'<quota calls="{HANDSHAKES}" renewal-period="3600"/>'),
    "limit-concurrency": inbound(
        f'<limit-concurrency key="@(context.Subscription.Id)" max-count="{HANDSHAKES}" />'
    ),
}


USED_UP = {"rate-limit": 429, "quota": 403, "limit-concurrency": 429}


@pytest.fixture
def redis_server():
    server = RedisServer(debug_command=True)
    yield server
    server.stop()


def pipeline_for(xml: str, url: str):
    runtime = PolicyRuntime(url, key_prefix=new_prefix(), counter_timeout=TIMEOUT)
    return compile_policy(effective_document(xml, [], None), runtime)


async def keep_the_loop_busy(stretches: int) -> None:
    """Hold the event loop in bursts of synchronous work (as thousands of handshakes at once
    would), letting other callbacks run only between bursts. Bounded: `stretches` bursts."""
    for _ in range(stretches):
        time.sleep(BUSY_STRETCH)  # noqa: ASYNC251 - blocking the loop is the point
        await asyncio.sleep(0)


async def handshakes_while_busy(pipeline, count: int, stretches: int) -> list:
    await pipeline.run(make_ctx(subscription_id="warm-up"))  # the connection and scripts exist
    busy = asyncio.ensure_future(keep_the_loop_busy(stretches))
    await asyncio.sleep(0)  # the first burst starts before the handshakes send their calls
    answers = await asyncio.gather(*(pipeline.run(make_ctx()) for _ in range(count)))
    await busy
    return answers


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_busy_loop_never_makes_a_fast_store_refuse(redis_server, policy):
    """Every handshake waits far longer than the counter timeout for its turn on the loop, but
    Redis answered each call at once: all pass, and each was counted."""
    pipeline = pipeline_for(POLICIES[policy], redis_server.url)

    async def scenario():
        answers = await handshakes_while_busy(pipeline, HANDSHAKES, stretches=8)
        one_more = await pipeline.run(make_ctx())  # the limit is used up: the calls counted
        return answers, one_more

    answers, one_more = asyncio.run(scenario())
    assert [a.status if a else None for a in answers] == [None] * HANDSHAKES
    assert one_more is not None and one_more.status == USED_UP[policy]


async def handshake_while_store_sleeps(
    pipeline, server: RedisServer, *, busy_stretches: int
) -> object:
    await pipeline.run(make_ctx(subscription_id="warm-up"))
    sleeper = server.sleep(3)  # longer than the loop stays busy: the store is really slow
    try:
        await asyncio.sleep(0.1)  # Redis is inside DEBUG SLEEP before the handshake's call
        busy = asyncio.ensure_future(keep_the_loop_busy(busy_stretches))
        answer = await pipeline.run(make_ctx())
        await busy
        return answer
    finally:
        sleeper.close()


@pytest.mark.parametrize("busy_stretches", [0, 8], ids=["idle loop", "busy loop"])
def test_a_slow_store_still_answers_503(redis_server, busy_stretches):
    pipeline = pipeline_for(POLICIES["rate-limit"], redis_server.url)
    answer = asyncio.run(
        handshake_while_store_sleeps(pipeline, redis_server, busy_stretches=busy_stretches)
    )
    assert answer is not None and answer.status == 503


def test_a_deadline_ends_a_silent_call_and_leaves_other_cancels_alone():
    """The deadline's own cancel surfaces as TimeoutError; someone else's stays a cancel."""

    async def silent(seconds: float) -> None:
        async with store_deadline(seconds):
            await asyncio.sleep(30)  # a store that never answers

    async def scenario():
        with pytest.raises(TimeoutError):
            await silent(0.05)
        outer = asyncio.ensure_future(silent(10))
        await asyncio.sleep(0.05)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer

    asyncio.run(scenario())
