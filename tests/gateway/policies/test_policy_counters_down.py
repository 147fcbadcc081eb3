"""Counter policies when the counter store is unreachable: 503 by default, or pass uncounted."""

from __future__ import annotations

import asyncio
import socket
import time

from limits import RateLimitItemPerSecond
from policy_helpers import inbound, new_prefix, run_policy

from gateway.policies import PolicyRuntime

RATE_LIMIT = inbound('<rate-limit calls="1" renewal-period="60"/>')
QUOTA = inbound('<quota calls="1" renewal-period="60"/>')


def dead_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def runtime(**kw) -> PolicyRuntime:
    return PolicyRuntime(dead_redis_url(), key_prefix=new_prefix(), **kw)


def test_counter_policies_answer_503_when_the_store_is_down():
    for xml in (RATE_LIMIT, QUOTA):
        refusal = run_policy(xml, runtime())
        assert refusal is not None and refusal.status == 503


def test_fail_open_lets_handshakes_through_uncounted():
    for xml in (RATE_LIMIT, QUOTA):
        assert run_policy(xml, runtime(counters_fail_open=True)) is None


def test_window_stats_fall_back_to_no_calls_left_for_a_whole_period():
    """A refusal the hit already decided stands even if reading the window fails after it."""
    rt = runtime()

    async def stats():
        moving, _fixed = rt.limiters()
        return await moving.get_window_stats(RateLimitItemPerSecond(1, 60), "key")

    got = asyncio.run(stats())
    assert got.remaining == 0
    assert 55 < got.reset_time - time.time() <= 60
