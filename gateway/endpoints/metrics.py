"""GET /metrics: this process's Prometheus metrics, for allowed networks or a bearer token."""

import hmac
import ipaddress

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from gateway.policies.clientaddr import client_ip, is_trusted
from gateway.state import state_of

METRICS_PATH = "/metrics"


def _bearer(scope: dict) -> str:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


_FORWARDING = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def reader_address(scope: dict, trusted_proxies) -> str | None:
    """Whom to judge: the peer, or the client a trusted proxy forwards; None when unknown.

    A request carrying forwarding headers came through a proxy, which may run on this very host
    (so its peer is loopback): such a request is judged by its client, never by the peer. Only a
    trusted proxy's `X-Forwarded-For` names that client (the project's one rule, clientaddr); from
    any other peer, or with only `Forwarded` / `X-Real-IP`, the client is unknown: remote.
    """
    peer = (scope.get("client") or ("", 0))[0]
    headers = scope.get("headers") or ()
    if not any(name.lower() in _FORWARDING for name, _ in headers):
        return peer
    if not is_trusted(peer, trusted_proxies):
        return None
    forwarded_for = [v.decode("latin-1") for n, v in headers if n.lower() == b"x-forwarded-for"]
    if not forwarded_for:
        return None
    return client_ip(peer, forwarded_for, trusted_proxies)


def allowed(scope: dict, state) -> bool:
    token = state.config.metrics_token
    presented = _bearer(scope)
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    reader = reader_address(scope, state.trusted_proxies)
    if reader is None:
        return False
    try:
        address = ipaddress.ip_address(reader)
    except ValueError:
        return False
    return any(address in network for network in state.metrics_networks)


async def metrics_app(scope, receive, send) -> None:
    state = state_of(scope)
    if allowed(scope, state):
        status, content_type = 200, CONTENT_TYPE_PLAIN_0_0_4.encode()
        body = generate_latest(state.recorder.metrics.registry)
    else:
        status, content_type = 401 if state.config.metrics_token else 403, b"text/plain"
        body = b"Forbidden: /metrics needs an allowed network or the bearer token.\n"
    headers = [(b"content-type", content_type), (b"cache-control", b"no-store")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="metrics"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
