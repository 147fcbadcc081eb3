"""Opening the backend leg: the URL and headers forwarded, and failures mapped to 502/504."""

import asyncio
import logging
import ssl
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import unquote_plus

from websockets.exceptions import WebSocketException

from gateway.backend.handshake import (
    BackendHandshakeError,
    BackendStatus,
    build_request,
    new_key,
    target,
)
from gateway.backend.leg import BackendLeg, Pending
from gateway.refusal import Refusal

log = logging.getLogger("portico.gateway")

# Handshake headers the gateway sets itself; never copied from the client.
_FORWARDED_AS_IS = ("origin", "user-agent")


@dataclass(slots=True)
class BackendRequest:
    """What the gateway sends to the backend; policies may change it before the connect."""

    base: str  # scheme://host[:port][/path] of the API's backend, no trailing "/"
    rest: str  # the client's path after the API URL suffix
    query: str  # raw query string: the backend URL's own, then the client's minus the key
    subprotocols: list[str]
    headers: dict[str, str] = field(default_factory=dict)  # includes Origin and User-Agent

    @property
    def url(self) -> str:
        return f"{self.base}{self.rest or '/'}" + (f"?{self.query}" if self.query else "")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def extra_headers(self) -> list[tuple[str, str]]:
        """Headers other than Origin and User-Agent, which have their own places."""
        return [(k, v) for k, v in self.headers.items() if k.lower() not in _FORWARDED_AS_IS]

    def split_headers(self) -> tuple[str | None, str | None, list[tuple[str, str]]]:
        """`header("Origin")`, `header("User-Agent")` and `extra_headers()` in one pass over
        the headers (the backend request needs all three at every handshake)."""
        origin = user_agent = None
        extra = []
        for name, value in self.headers.items():
            lowered = name.lower()
            if lowered == "origin":
                if origin is None:
                    origin = value
            elif lowered == "user-agent":
                if user_agent is None:
                    user_agent = value
            else:
                extra.append((name, value))
        return origin, user_agent, extra


def strip_query_param(query: str, name: str) -> str:
    """Drop every `name=...` pair from a raw query string, keeping the rest byte-for-byte."""
    if not query:
        return ""
    kept = [
        pair for pair in query.split("&") if pair and unquote_plus(pair.partition("=")[0]) != name
    ]
    return "&".join(kept)


def join_queries(*queries: str) -> str:
    return "&".join(q for q in queries if q)


def forwarded_headers(
    headers: dict[str, str], *, peer_ip: str, scheme: str, correlation_id: str
) -> dict[str, str]:
    """X-Forwarded-* as a reverse proxy sends them: the client's chain plus the peer we saw."""
    chain = headers.get("x-forwarded-for")
    return {
        "X-Forwarded-For": f"{chain}, {peer_ip}" if chain else peer_ip,
        "X-Forwarded-Proto": "https" if scheme == "wss" else "http",
        "X-Correlation-Id": correlation_id,
    }


async def open_backend(
    request: BackendRequest,
    *,
    connect_timeout: float,
    max_size: int,
    keepalive: float | None,
    tunnel: bool = False,
    tls: ssl.SSLContext | None = None,
) -> BackendLeg:
    """Connect to the backend or raise a Refusal: 504 on timeout, 502 on any other failure.

    `tunnel`: leave the frames after the handshake unparsed for a tunnel (`BackendLeg.detach`).
    `tls`: how a wss:// backend is verified (None: the system's CA store; always verified).
    No extension (permessage-deflate) is offered either way, so frames pass through as they are.
    """
    leg = None
    try:
        uri, head = target(request.url)
        key, accept = new_key()
        origin, user_agent, extra = request.split_headers()
        pending = Pending(
            uri,
            build_request(
                head,
                key,
                origin=origin or None,
                subprotocols=request.subprotocols,
                headers=extra,
                user_agent=user_agent,
            ),
            accept,
            request.subprotocols,
            max_size,
            tunnel,
        )
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(connect_timeout):
            _, leg = await loop.create_connection(
                # Messages waiting for the client: at most about one message limit in bytes.
                lambda: BackendLeg(pending, keepalive=keepalive, max_queue_bytes=max_size),
                uri.host,
                uri.port,
                ssl=(tls or _tls_context()) if uri.secure else None,
            )
            await leg.opened
        return leg
    except TimeoutError:
        _abort(leg)
        raise Refusal(
            504, "The backend did not answer in time.", reason="backend timeout"
        ) from None
    except BackendStatus as exc:
        _abort(leg)
        status = exc.status
        raise Refusal(
            502,
            "The backend refused the WebSocket handshake.",
            reason=f"backend answered HTTP {status} instead of 101",
        ) from None
    except (BackendHandshakeError, WebSocketException) as exc:
        _abort(leg)
        raise Refusal(
            502, "The backend's WebSocket handshake failed.", reason=f"backend handshake: {exc}"
        ) from None
    except OSError as exc:
        _abort(leg)
        raise Refusal(
            502, "The backend is unreachable.", reason=f"backend unreachable: {exc.strerror or exc}"
        ) from None


def _abort(leg: BackendLeg | None) -> None:
    if leg is not None and leg.transport is not None:
        leg.transport.abort()


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()
