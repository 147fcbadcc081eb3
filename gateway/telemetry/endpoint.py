"""GET /metrics: this process's Prometheus metrics, for allowed networks or a bearer token."""

import hmac
import ipaddress

from django.conf import settings
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from gateway.policies.clientaddr import parse_networks
from gateway.telemetry import get_recorder

METRICS_PATH = "/metrics"
_ALLOWED = parse_networks(settings.PORTICO_METRICS_ALLOWED_NETWORKS)


def _bearer(scope: dict) -> str:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def allowed(scope: dict) -> bool:
    token = settings.PORTICO_METRICS_TOKEN
    presented = _bearer(scope)
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    peer = (scope.get("client") or ("", 0))[0]
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _ALLOWED)


async def metrics_app(scope, receive, send) -> None:
    if allowed(scope):
        status, content_type = 200, CONTENT_TYPE_PLAIN_0_0_4.encode()
        body = generate_latest(get_recorder().metrics.registry)
    else:
        status, content_type = 401 if settings.PORTICO_METRICS_TOKEN else 403, b"text/plain"
        body = b"Forbidden: /metrics needs an allowed network or the bearer token.\n"
    headers = [(b"content-type", content_type), (b"cache-control", b"no-store")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="metrics"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
