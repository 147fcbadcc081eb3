"""Redis counters that count nothing when a call reaches Redis after the gateway gave up on it.

A stalled Redis (paused, swapping, overloaded) still receives the gateway's calls and runs them
once it wakes: the handshakes already answered 503 would then use up counter slots. These
scripts compare the gateway's timestamp with Redis' own clock and refuse a call older than the
counter timeout plus a clock-skew allowance; `limits`' own scripts run unchanged after the check.
The timestamp is read when redis-py packs the call for its connection, after any connect: a
busy gateway loop may delay a call before it is sent, and that is not the store's lateness.
"""

from __future__ import annotations

import time
from typing import Any, cast

from limits.aio.storage.redis.redispy import RedispyBridge

CLOCK_SKEW_ALLOWANCE = 1.0  # seconds the gateway's clock may differ from Redis' clock

_GUARD = """
local stale_after = {stale_after}
local now = redis.call('TIME')
if tonumber(now[1]) + tonumber(now[2]) / 1000000 - tonumber(ARGV[{argv}]) > stale_after then
    return redis.error_reply('portico: stale counter call, not counted')
end
"""


class SendTime(float):
    """The wall-clock time when redis-py encodes this argument, i.e. when the call is sent.

    redis-py writes a float argument as `repr(value)`; this one reads the clock there. It is
    sent to Redis as a number like any timestamp; its own float value is the creation time."""

    def __new__(cls) -> SendTime:
        return super().__new__(cls, time.time())

    def __repr__(self) -> str:
        return repr(time.time())


class FreshOnlyBridge(RedispyBridge):
    """limits' redis-py bridge whose counting scripts ignore calls that arrive too late."""

    def __init__(self, *args: Any, stale_after: float, **options: Any) -> None:
        super().__init__(*args, **options)
        guard = _GUARD.replace("{stale_after}", repr(float(stale_after))).encode()
        # acquire_moving_window already takes the gateway's timestamp as ARGV[1].
        self.SCRIPT_ACQUIRE_MOVING_WINDOW = (
            guard.replace(b"{argv}", b"1") + RedispyBridge.SCRIPT_ACQUIRE_MOVING_WINDOW
        )
        # incr_expire takes (expiry, amount); `incr` below adds the timestamp as ARGV[3].
        self.SCRIPT_INCR_EXPIRE = guard.replace(b"{argv}", b"3") + RedispyBridge.SCRIPT_INCR_EXPIRE

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        key = self.prefixed_key(key)
        return cast(int, await self.lua_incr_expire([key], [expiry, amount, SendTime()]))

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """limits' moving-window entry, stamped at sending (the same script and arguments)."""
        key = self.prefixed_key(key)
        return bool(
            await self.lua_acquire_moving_window([key], [SendTime(), limit, expiry, amount])
        )


def count_fresh_calls_only(storage: Any, *, timeout: float) -> Any:
    """Give a plain `limits` Redis storage (redis-py) the fresh-only bridge; others unchanged."""
    bridge = getattr(storage, "bridge", None)
    if type(bridge) is not RedispyBridge:
        return storage
    storage.bridge = FreshOnlyBridge(
        bridge.uri,
        bridge.dependency,
        bridge.key_prefix,
        stale_after=timeout + CLOCK_SKEW_ALLOWANCE,
        **storage.options,
    )
    storage.configure_bridge()
    storage.bridge.register_scripts()
    return storage
