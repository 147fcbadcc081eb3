"""Signing keys from an OpenID discovery document, cached, refetched at most once per cooldown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWKError

MAX_RESPONSE_BYTES = 1024 * 1024
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="jwks")

RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
HMAC_ALGS = ("HS256", "HS384", "HS512")
EC_ALGS_BY_CURVE = {"P-256": ("ES256",), "P-384": ("ES384",), "P-521": ("ES512",)}


@dataclass(frozen=True, slots=True)
class KeyCandidate:
    """A verification key and the only algorithms it may be used with."""

    key: Any
    algorithms: tuple[str, ...]
    kid: str | None = None


def jwk_algorithms(data: dict[str, Any]) -> tuple[str, ...]:
    """Algorithms a JWK may verify: its `alg` if given, else those its key type implies."""
    alg = data.get("alg")
    kty = data.get("kty")
    if kty == "RSA":
        allowed = RSA_ALGS
    elif kty == "EC":
        allowed = EC_ALGS_BY_CURVE.get(data.get("crv", ""), ())
    elif kty == "OKP":
        allowed = ("EdDSA",)
    elif kty == "oct":
        allowed = HMAC_ALGS
    else:
        allowed = ()
    if alg:
        return (alg,) if alg in allowed else ()
    return allowed


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"only http(s) URLs can be fetched: {url!r}")
    req = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
        body = resp.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise ValueError(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return data


class OpenIdKeys:
    """The JWKS behind one OpenID configuration URL, shared by every pipeline and event loop.

    Fetching is synchronous (urllib) and runs in a worker thread. A missing `kid` (or a cache
    older than `max_age`) triggers a refetch, but at most one attempt per `cooldown` seconds;
    concurrent handshakes wait for the same fetch. A failed refetch keeps the cached keys.
    """

    def __init__(self, url: str, *, cooldown: float, timeout: float, max_age: float) -> None:
        self.url = url
        self.cooldown = cooldown
        self.timeout = timeout
        self.max_age = max_age
        self.keys: tuple[KeyCandidate, ...] = ()
        self.fetched_at: float | None = None
        self.attempted_at: float | None = None
        self.fetches = 0
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._inflight: concurrent.futures.Future[None] | None = None

    def _fetch(self) -> None:
        self.fetches += 1
        try:
            discovery = _get_json(self.url, self.timeout)
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError("discovery document has no jwks_uri")
            jwks = _get_json(jwks_uri, self.timeout)
            keys: list[KeyCandidate] = []
            for data in jwks.get("keys", []):
                if not isinstance(data, dict) or data.get("use", "sig") != "sig":
                    continue
                algs = jwk_algorithms(data)
                if not algs:
                    continue
                try:
                    jwk = PyJWK(data, algorithm=algs[0])
                except PyJWKError:
                    continue
                keys.append(KeyCandidate(jwk.key, algs, data.get("kid")))
            self.keys = tuple(keys)
            self.fetched_at = time.monotonic()
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - any failure keeps the cached keys
            self.last_error = f"{type(exc).__name__}: {exc}"

    def _matching(self, kid: str | None) -> list[KeyCandidate]:
        if kid is None:
            return list(self.keys)
        return [k for k in self.keys if k.kid == kid]

    async def candidates(self, kid: str | None) -> list[KeyCandidate]:
        """Keys that may verify a token with this `kid` (all keys when it has none)."""
        found = self._matching(kid)
        now = time.monotonic()
        stale = self.fetched_at is None or now - self.fetched_at > self.max_age
        if found and not stale:
            return found
        with self._lock:
            fut = self._inflight
            if fut is None:
                if self.attempted_at is not None and now - self.attempted_at < self.cooldown:
                    return found
                self.attempted_at = now
                fut = _EXECUTOR.submit(self._fetch)
                self._inflight = fut
                fut.add_done_callback(self._done)
        await asyncio.wrap_future(fut)
        return self._matching(kid)

    def _done(self, fut: concurrent.futures.Future[None]) -> None:
        with self._lock:
            if self._inflight is fut:
                self._inflight = None
