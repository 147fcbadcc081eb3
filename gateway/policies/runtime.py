"""Shared state for evaluating policies: counter storage, JWKS caches, concurrency slots."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from limits import strategies
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from . import clientaddr
from .context import Refusal
from .counters import COUNTERS_DOWN_MESSAGE, BoundedLimiter, CountersUnavailable, LocalStorage
from .redis_counters import count_fresh_calls_only
from .redis_slots import RedisSlots
from .store_deadline import longest_wait

log = logging.getLogger("portico.gateway")

COUNTERS_WARNING_EVERY = 10.0  # seconds: one warning line per outage interval, not per handshake

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyRuntime:
    """Holds everything compiled pipelines share across handshakes in one process.

    `limits_storage_uri` is `memory://` (per process) or `redis://host:port/db` (shared between
    gateway processes). `trusted_proxies` are networks whose `X-Forwarded-For` is believed.
    `key_prefix` namespaces every counter key (tests and multi-tenant Redis use it).
    `counter_timeout` bounds every counter call (a Redis that is down or stalled answers a quick
    503, or lets the handshake through uncounted when `counters_fail_open`).
    Concurrency slots (limit-concurrency) are counted in this process with `memory://`, and as
    leases of `concurrency_lease_seconds` in the same Redis otherwise (shared by every worker and
    node; a dead process's slots come back when its leases expire).
    """

    def __init__(
        self,
        limits_storage_uri: str = "memory://",
        trusted_proxies: Iterable[str | IPNetwork] = (),
        jwks_cooldown: float = 300.0,
        http_timeout: float = 5.0,
        region: str = "",
        *,
        key_prefix: str = "portico",
        jwks_max_age: float = 3600.0,
        counter_timeout: float = 0.3,
        counters_fail_open: bool = False,
        concurrency_lease_seconds: float = 30.0,
    ) -> None:
        self.limits_storage_uri = limits_storage_uri
        self.trusted_proxies: tuple[IPNetwork, ...] = clientaddr.parse_networks(trusted_proxies)
        self.jwks_cooldown = jwks_cooldown
        self.http_timeout = http_timeout
        self.region = region
        self.key_prefix = key_prefix
        self.jwks_max_age = jwks_max_age
        self.counter_timeout = counter_timeout
        self.counters_fail_open = counters_fail_open
        self._counters_warned = 0.0
        self._storages: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Storage] = (
            weakref.WeakKeyDictionary()
        )
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )
        # memory://: limits' sync storage, one per runtime (it is bound to no event loop)
        self._local: tuple[BoundedLimiter, BoundedLimiter] | None = None
        self._jwks: dict[str, Any] = {}
        self._jwks_lock = threading.Lock()
        self._slots: dict[str, int] = {}
        self._slots_lock = threading.Lock()
        self._shared_slots: RedisSlots | None = None
        if limits_storage_uri.removeprefix("async+").startswith(("redis://", "rediss://")):
            self._shared_slots = RedisSlots(
                limits_storage_uri, lease_seconds=concurrency_lease_seconds, timeout=counter_timeout
            )

    # -- counters ---------------------------------------------------------------------------
    def _make_storage(self) -> Storage:
        uri = self.limits_storage_uri
        if not uri.startswith("async+"):
            uri = "async+" + uri
        if uri.startswith(("async+redis", "async+rediss")):
            # redis-py waits 5 s per socket operation and retries by default: no retries, and
            # its socket timeouts only as a backstop, since they run on the loop's wall clock:
            # BoundedLimiter's store_deadline ends a call after the counter timeout of the
            # store's own time, so a busy loop never makes a healthy Redis look down.
            wait = longest_wait(self.counter_timeout)
            storage = storage_from_string(
                uri,
                implementation="redispy",
                wrap_exceptions=True,
                socket_connect_timeout=wait,
                socket_timeout=wait,
                retry=None,
            )
            # The fresh-only check keeps the plain timeout: the gateway stamps a call just before
            # sending it, so its loop's lag hardly reaches that gap, and a call a stalled Redis
            # runs late must still count nothing.
            return count_fresh_calls_only(storage, timeout=self.counter_timeout)  # type: ignore[return-value]
        return storage_from_string(uri)  # type: ignore[return-value]

    def limiters(self) -> tuple[BoundedLimiter, BoundedLimiter]:
        """(moving-window, fixed-window) limiters: the process's own with `memory://`, else
        bound to the running event loop (`limits`' async storages are).

        Each call raises `CountersUnavailable` when the store fails or is slower than
        `counter_timeout`."""
        if self._local is not None:
            return self._local
        if self.limits_storage_uri.removeprefix("async+").startswith("memory://"):
            # The sync storage answers within the call: no await hop, no asyncio lock, and its
            # expiry runs from the hits instead of a task and a thread-pool hop per hit.
            memory = LocalStorage()
            self._local = (
                BoundedLimiter(strategies.MovingWindowRateLimiter(memory), self.counter_timeout),
                BoundedLimiter(strategies.FixedWindowRateLimiter(memory), self.counter_timeout),
            )
            return self._local
        loop = asyncio.get_running_loop()
        pair = self._limiters.get(loop)
        if pair is None:
            storage = self._make_storage()
            self._storages[loop] = storage
            timeout = self.counter_timeout
            pair = (
                BoundedLimiter(MovingWindowRateLimiter(storage), timeout),
                BoundedLimiter(FixedWindowRateLimiter(storage), timeout),
            )
            self._limiters[loop] = pair
        return pair

    def counters_unavailable(self, exc: CountersUnavailable) -> Refusal | None:
        """What a counter policy does when its store fails: 503, or pass uncounted (fail open).

        Either way the failed call counted nothing here; the handshake's other holdings are
        released by the pipeline on a refusal."""
        now = time.monotonic()
        if now - self._counters_warned >= COUNTERS_WARNING_EVERY:
            self._counters_warned = now
            log.warning(
                "rate-limit/quota counters unavailable (%s): %s",
                exc,
                "letting handshakes through uncounted" if self.counters_fail_open else "503",
            )
        if self.counters_fail_open:
            return None
        return Refusal(503, COUNTERS_DOWN_MESSAGE)

    def counter_key(self, *parts: str) -> str:
        return ":".join((self.key_prefix, *parts))

    # -- JWKS -------------------------------------------------------------------------------
    def jwks_cache(self, url: str) -> Any:
        """The shared signing-key cache for one OpenID configuration URL."""
        from .jwks import OpenIdKeys

        with self._jwks_lock:
            cache = self._jwks.get(url)
            if cache is None:
                cache = OpenIdKeys(
                    url,
                    cooldown=self.jwks_cooldown,
                    timeout=self.http_timeout,
                    max_age=self.jwks_max_age,
                )
                self._jwks[url] = cache
            return cache

    # -- concurrency ------------------------------------------------------------------------
    async def take_slot(self, key: str, max_count: int) -> Callable[[], None] | None:
        """One of `max_count` slots for `key` (shared through Redis when counters are), with an
        idempotent release; None when all are in use. Raises CountersUnavailable."""
        return (await self.take_counted_slot(key, max_count))[0]

    async def take_counted_slot(
        self, key: str, max_count: int
    ) -> tuple[Callable[[], None] | None, int]:
        """`take_slot`, and how many slots of `key` are in use (counting this one if taken)."""
        if self._shared_slots is not None:
            return await self._shared_slots.acquire_counted(key, max_count)
        return self.acquire_counted_slot(key, max_count)

    def acquire_slot(self, key: str, max_count: int) -> Callable[[], None] | None:
        """Take one of `max_count` slots for `key`; returns an idempotent release, or None."""
        return self.acquire_counted_slot(key, max_count)[0]

    def acquire_counted_slot(
        self, key: str, max_count: int
    ) -> tuple[Callable[[], None] | None, int]:
        with self._slots_lock:
            used = self._slots.get(key, 0)
            if used >= max_count:
                return None, used
            self._slots[key] = used + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._slots_lock:
                if released:
                    return
                released = True
                left = self._slots.get(key, 1) - 1
                if left <= 0:
                    self._slots.pop(key, None)
                else:
                    self._slots[key] = left

        return release, used + 1

    def open_slots(self, keys: list[str]) -> list[int]:
        """Slots in use per key as every process sees them (Redis), else as this process does.

        Synchronous, for pages; raises CountersUnavailable."""
        if self._shared_slots is not None:
            return self._shared_slots.live_counts(keys)
        with self._slots_lock:
            return [self._slots.get(key, 0) for key in keys]

    def subscription_connections_key(self, subscription_id: int | str) -> str:
        """The slot key counting one subscription's open connections (connection caps)."""
        return self.counter_key("conns", str(subscription_id))

    def slots_in_use(self, key: str) -> int:
        if self._shared_slots is not None:
            return self._shared_slots.in_use(key)
        return self._slots.get(key, 0)

    # -- client address ---------------------------------------------------------------------
    def client_ip(self, peer_ip: str, headers: list[tuple[str, str]]) -> str:
        """The client's address from the socket peer and trusted `X-Forwarded-For` hops."""
        forwarded = (v for k, v in headers if k.lower() == "x-forwarded-for")
        return clientaddr.client_ip(peer_ip, forwarded, self.trusted_proxies)

    async def aclose(self) -> None:
        """Release the counter storage connections of the running loop (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        self._limiters.pop(loop, None)
        storage = self._storages.pop(loop, None)
        bridge = getattr(storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()
