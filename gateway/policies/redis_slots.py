"""limit-concurrency slots shared by every gateway worker and node, as leases in Redis.

Each key is a sorted set of leases scored by their expiry (Redis' own clock). A connection takes
a lease at its handshake and gives it back when it closes; its process renews all the leases it
holds every third of the lease time. A worker that is killed stops renewing, so its slots come
back after at most one lease time instead of being lost forever.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .counters import CountersUnavailable, describe
from .store_deadline import longest_wait, store_deadline

log = logging.getLogger("portico.gateway")

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# KEYS[1] the slot set; ARGV: lease seconds, max count, member. Returns the leases held after
# taking one (> 0), or minus the leases held when all are in use.
ACQUIRE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then return -held end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return held + 1
"""
)

# KEYS: slot sets. Returns the live (unexpired) leases of each; reads only.
COUNT = (
    _NOW
    + """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf')
end
return counts
"""
)

# KEYS: slot sets; ARGV[1] lease seconds, ARGV[2..] the member held in the matching key.
RENEW = (
    _NOW
    + """
local kept = 0
for i, key in ipairs(KEYS) do
    if redis.call('ZSCORE', key, ARGV[i + 1]) then
        redis.call('ZADD', key, now + tonumber(ARGV[1]), ARGV[i + 1])
        redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
        kept = kept + 1
    end
end
return kept
"""
)


class RedisSlots:
    """Concurrency slots in Redis, one client and one renewal task per event loop."""

    def __init__(self, uri: str, *, lease_seconds: float, timeout: float) -> None:
        self.uri = uri.removeprefix("async+")
        self.lease_seconds = lease_seconds
        self.timeout = timeout
        self.owner = uuid.uuid4().hex  # this process; each lease adds its own suffix
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._held: dict[tuple[str, str], asyncio.AbstractEventLoop] = {}
        self._renewers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(
                self.uri,
                socket_connect_timeout=longest_wait(self.timeout),
                socket_timeout=longest_wait(self.timeout),
                retry=None,
            )
            self._clients[loop] = client
            self._renewers[loop] = loop.create_task(self._renew_forever())
        return client

    async def acquire(self, key: str, max_count: int) -> Callable[[], None] | None:
        return (await self.acquire_counted(key, max_count))[0]

    async def acquire_counted(
        self, key: str, max_count: int
    ) -> tuple[Callable[[], None] | None, int]:
        """(release, leases held counting this one), or (None, leases held) when all are in use."""
        client = self._client()
        member = f"{self.owner}:{uuid.uuid4().hex}"
        try:
            async with store_deadline(self.timeout):
                held = await client.eval(ACQUIRE, 1, key, self.lease_seconds, max_count, member)
        except (RedisError, OSError, TimeoutError) as exc:
            raise CountersUnavailable(describe(exc)) from None
        if held <= 0:
            return None, -held
        loop = asyncio.get_running_loop()
        self._held[(key, member)] = loop

        def release() -> None:
            if self._held.pop((key, member), None) is not None and not loop.is_closed():
                loop.create_task(self._give_back(client, key, member))

        return release, held

    async def _give_back(self, client: aioredis.Redis, key: str, member: str) -> None:
        try:
            async with store_deadline(self.timeout):
                await client.zrem(key, member)
        except (RedisError, OSError, TimeoutError) as exc:  # it expires by itself
            log.warning("limit-concurrency slot not given back (%s); it expires", describe(exc))

    async def _renew_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            held = [k for k, owner in list(self._held.items()) if owner is loop]
            for start in range(0, len(held), 500):
                batch = held[start : start + 500]
                try:
                    async with store_deadline(self.timeout * 2):
                        await self._client().eval(
                            RENEW,
                            len(batch),
                            *(key for key, _ in batch),
                            self.lease_seconds,
                            *(member for _, member in batch),
                        )
                except (RedisError, OSError, TimeoutError) as exc:
                    log.warning("limit-concurrency leases not renewed: %s", describe(exc))

    def live_counts(self, keys: list[str]) -> list[int]:
        """The live leases of each key, held by any process (synchronous: for pages)."""
        if not keys:
            return []
        client = redis.Redis.from_url(
            self.uri, socket_connect_timeout=self.timeout, socket_timeout=self.timeout, retry=None
        )
        try:
            return [int(n) for n in client.eval(COUNT, len(keys), *keys)]
        except (RedisError, OSError) as exc:
            raise CountersUnavailable(describe(exc)) from None
        finally:
            client.close()

    def in_use(self, key: str) -> int:
        """Leases this process holds for `key` (tests)."""
        return sum(1 for held_key, _ in self._held if held_key == key)
