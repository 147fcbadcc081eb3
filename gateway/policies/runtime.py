"""Shared state for evaluating policies: counter storage, JWKS caches, concurrency slots."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from . import clientaddr

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyRuntime:
    """Holds everything compiled pipelines share across handshakes in one process.

    `limits_storage_uri` is `memory://` (per process) or `redis://host:port/db` (shared between
    gateway processes). `trusted_proxies` are networks whose `X-Forwarded-For` is believed.
    `key_prefix` namespaces every counter key (tests and multi-tenant Redis use it).
    Concurrency slots (limit-concurrency) are counted in this process only.
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
    ) -> None:
        self.limits_storage_uri = limits_storage_uri
        self.trusted_proxies: tuple[IPNetwork, ...] = clientaddr.parse_networks(trusted_proxies)
        self.jwks_cooldown = jwks_cooldown
        self.http_timeout = http_timeout
        self.region = region
        self.key_prefix = key_prefix
        self.jwks_max_age = jwks_max_age
        self._storages: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Storage] = (
            weakref.WeakKeyDictionary()
        )
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._jwks: dict[str, Any] = {}
        self._jwks_lock = threading.Lock()
        self._slots: dict[str, int] = {}
        self._slots_lock = threading.Lock()

    # -- counters ---------------------------------------------------------------------------
    def _make_storage(self) -> Storage:
        uri = self.limits_storage_uri
        if not uri.startswith("async+"):
            uri = "async+" + uri
        if uri.startswith(("async+redis", "async+rediss")):
            return storage_from_string(uri, implementation="redispy")  # type: ignore[return-value]
        return storage_from_string(uri)  # type: ignore[return-value]

    def limiters(self) -> tuple[MovingWindowRateLimiter, FixedWindowRateLimiter]:
        """(moving-window, fixed-window) limiters bound to the running event loop."""
        loop = asyncio.get_running_loop()
        pair = self._limiters.get(loop)
        if pair is None:
            storage = self._make_storage()
            self._storages[loop] = storage
            pair = (MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage))
            self._limiters[loop] = pair
        return pair

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
    def acquire_slot(self, key: str, max_count: int) -> Callable[[], None] | None:
        """Take one of `max_count` slots for `key`; returns an idempotent release, or None."""
        with self._slots_lock:
            used = self._slots.get(key, 0)
            if used >= max_count:
                return None
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

        return release

    def slots_in_use(self, key: str) -> int:
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
