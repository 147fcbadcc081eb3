"""Which of the client's handshake headers reach the backend, as Azure forwards them.

Everything the client sent goes on, except: hop-by-hop headers (RFC 9110 §7.6.1, and any
the client's Connection header names), the WebSocket handshake's own headers (the backend leg
writes its own), the headers the gateway sets itself (X-Forwarded-For/-Proto,
X-Correlation-Id), X-Client-Cert (read from a trusted proxy, never passed on), the API's
subscription key header, and Portico's own cookies: the
portal's session and CSRF cookies reach the gateway's host and must never reach a backend.
"""

from collections.abc import Iterable

_NOT_FORWARDED = frozenset(
    {
        # hop-by-hop
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        # the request's framing and target: the backend leg has its own
        "host",
        "content-length",
        # the WebSocket handshake (subprotocols are offered by the backend leg)
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "sec-websocket-protocol",
        # set by the gateway (the client's X-Forwarded-For chain is extended, not copied)
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-correlation-id",
        # a client certificate the gateway read (from a trusted proxy) or ignored (from anyone
        # else): a backend that trusted it would take a client's word for a certificate
        "x-client-cert",
    }
)


def client_headers(
    raw: Iterable[tuple[bytes, bytes]], *, key_header: str, own_cookies: frozenset[str]
) -> dict[str, str]:
    """The client's headers to forward (lower-case names; repeats joined as HTTP allows)."""
    pairs = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw]
    return forwardable(pairs, key_header=key_header, own_cookies=own_cookies)


def forwardable(
    pairs: list[tuple[str, str]], *, key_header: str, own_cookies: frozenset[str]
) -> dict[str, str]:
    """`client_headers` of headers already decoded, with lower-case names."""
    dropped = set(_NOT_FORWARDED)
    dropped.add(key_header.lower())
    for name, value in pairs:
        if name == "connection":  # it may name more hop-by-hop headers
            dropped.update(token.strip().lower() for token in value.split(","))
    out: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        if name in dropped or name.startswith("proxy-"):
            continue
        if name == "cookie":
            cookies.extend(without_cookies(value, own_cookies))
            continue
        out[name] = f"{out[name]}, {value}" if name in out else value
    if cookies:
        out["cookie"] = "; ".join(cookies)
    return out


def without_cookies(header: str, names: frozenset[str]) -> list[str]:
    """The `name=value` pairs of a Cookie header, minus the cookies called one of `names`."""
    kept = []
    for pair in header.split(";"):
        pair = pair.strip()
        if pair and pair.partition("=")[0].strip() not in names:
            kept.append(pair)
    return kept
