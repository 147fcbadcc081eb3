"""The handshake pipeline: route, scheme, subscription key, policies, then the backend request.

Everything here reads the in-memory snapshot; a refusal is raised as `Refusal` with the HTTP
status the client will see, before the backend is ever contacted.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote

from gateway.backend.open import (
    BackendRequest,
    forwarded_headers,
    join_queries,
    strip_query_param,
)
from gateway.catalog.contract import SubscriptionEntry
from gateway.catalog.snapshot import Route, Snapshot
from gateway.handshake import keys, tickets
from gateway.handshake.forwarding import forwardable
from gateway.policies.clientaddr import client_ip, is_trusted
from gateway.policies.clientcert import ClientCertificate
from gateway.refusal import Refusal

NOT_FOUND = "Resource not found."
MISDIRECTED = "This gateway does not serve this host name."


@dataclass(slots=True)
class Handshake:
    route: Route
    subscription: SubscriptionEntry | None
    backend: BackendRequest
    headers: dict[str, str]
    query: list[tuple[str, str]]
    peer_ip: str  # the socket peer
    client_ip: str  # the client behind trusted proxies (the peer when there are none)
    scheme: str
    presented_key: str | None
    key_index: bytes = b""  # the key's index in the snapshot, to tell later if it was replaced
    ticket: object = None  # the connect ticket presented instead of a key, spent before policies
    # The client's headers decoded once, names as sent (the policies' context reads them).
    header_pairs: list[tuple[str, str]] | None = None
    tags: dict[str, str] | None = None  # set-connection-tag's, once the policies ran
    host: str = ""  # the Host header without its port, lower-cased (context.Request.Url.Host)
    client_certificate: ClientCertificate | None = None  # from TLS, or a trusted proxy
    client_cas: tuple = ()  # the snapshot's, for validate-client-certificate
    client_crls: tuple = ()


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-cased names; repeated headers joined with ", " as HTTP allows."""
    return join_headers([(n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in raw])


def join_headers(lowered: list[tuple[str, str]]) -> dict[str, str]:
    """`decode_headers` of pairs already decoded, with lower-case names."""
    headers: dict[str, str] = {}
    for key, text in lowered:
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def parse_query(raw: str) -> list[tuple[str, str]]:
    """`parse_qsl(raw, keep_blank_values=True)`; a query with nothing to unquote (no "%" or "+",
    the usual handshake) is split directly, with the same result."""
    if "%" in raw or "+" in raw:
        return parse_qsl(raw, keep_blank_values=True)
    return [
        (name, value) for pair in raw.split("&") if pair for name, _, value in [pair.partition("=")]
    ]


def host_name(headers: dict[str, str]) -> str:
    """The Host header's name, lower-cased, without the port ("[::1]" keeps its brackets)."""
    host = headers.get("host", "").strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host.rstrip(".")


CLIENT_CERT_HEADER = "x-client-cert"  # URL-encoded PEM, as nginx's $ssl_client_escaped_cert


def client_certificate(
    scope: dict, headers: dict, peer_ip: str, trusted
) -> ClientCertificate | None:
    """The certificate the client presented in our TLS handshake, else the one a trusted proxy
    passes in X-Client-Cert (a header from anyone else is ignored)."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain")
    if chain:
        return ClientCertificate(chain[0])
    forwarded = headers.get(CLIENT_CERT_HEADER)
    if forwarded and is_trusted(peer_ip, trusted):
        return ClientCertificate(unquote(forwarded))
    return None


def effective_scheme(scope: dict, headers: dict[str, str], peer_ip: str, trusted: tuple) -> str:
    """ws or wss as the client used it; X-Forwarded-Proto counts only from a trusted proxy."""
    scheme = scope.get("scheme") or "ws"
    if is_trusted(peer_ip, trusted):
        proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in ("https", "wss"):
            return "wss"
        if proto in ("http", "ws"):
            return "ws"
    return "wss" if scheme in ("wss", "https") else "ws"


def start_handshake(
    snapshot: Snapshot,
    scope: dict,
    *,
    correlation_id: str,
    trusted_proxies: tuple,
    own_cookies: frozenset[str] = frozenset(),
) -> Handshake:
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    pairs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope.get("headers") or ()]
    lowered = [(n.lower(), v) for n, v in pairs]
    headers = join_headers(lowered)
    host = host_name(headers)
    if not snapshot.serves_host(host):
        raise Refusal(421, MISDIRECTED, reason=f"host {host[:100]!r} is not one of this gateway's")
    found = snapshot.find_route(path)
    if found is None:
        raise Refusal(404, NOT_FOUND, reason="no API at this path on this gateway")
    route, rest = found
    client = scope.get("client") or ("", 0)
    peer_ip = client[0] or ""
    scheme = effective_scheme(scope, headers, peer_ip, trusted_proxies)
    if (scheme == "wss" and not route.accepts_wss) or (scheme == "ws" and not route.accepts_ws):
        allowed = "wss" if route.accepts_wss else "ws"
        raise Refusal(
            403,
            f"This API does not accept {scheme}:// connections; use {allowed}://.",
            reason=f"scheme {scheme} not accepted",
        )
    raw_query = (scope.get("query_string") or b"").decode("latin-1")
    query = parse_query(raw_query)

    subscription = presented = ticket = None
    key_index = b""
    if route.api.subscription_required:
        presented = keys.read_key(route, headers, query)
        ticket_text = None if presented else tickets.read_ticket(query)
        if ticket_text:
            subscription, ticket = tickets.check_ticket(
                snapshot, route, ticket_text, headers, datetime.now(UTC)
            )
        else:
            subscription, key_index = keys.check_key(snapshot, route, presented, datetime.now(UTC))

    forwarded = forwardable(lowered, key_header=route.api.key_header, own_cookies=own_cookies)
    forwarded.update(
        forwarded_headers(headers, peer_ip=peer_ip, scheme=scheme, correlation_id=correlation_id)
    )
    backend = BackendRequest(
        base=route.backend_path,
        rest=rest,
        query=join_queries(
            route.backend_query,
            strip_query_param(
                strip_query_param(raw_query, route.api.key_query), tickets.QUERY_PARAM
            ),
        ),
        subprotocols=list(scope.get("subprotocols") or ()),
        headers=forwarded,
    )
    return Handshake(
        route=route,
        subscription=subscription,
        backend=backend,
        headers=headers,
        query=query,
        peer_ip=peer_ip,
        client_ip=client_ip(peer_ip, [headers.get("x-forwarded-for", "")], trusted_proxies),
        scheme=scheme,
        presented_key=presented,
        key_index=key_index,
        ticket=ticket,
        header_pairs=pairs,
        host=host,
        client_certificate=client_certificate(scope, headers, peer_ip, trusted_proxies),
        client_cas=snapshot.client_cas,
        client_crls=snapshot.client_crls,
    )
