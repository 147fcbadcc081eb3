"""The shell lines that start a node of a gateway: one text for the gateway page and the API."""

from django.http import HttpRequest

from apis.models import Gateway


def control_url(request: HttpRequest) -> str:
    """The portal's base URL as the caller reached it: where a self-hosted node pulls from."""
    return request.build_absolute_uri("/").rstrip("/")


def node_commands(gateway: Gateway, control: str, token: str | None) -> str:
    """The shell lines that start one node of this gateway (two workers sharing Redis); with
    TLS on port 443 when one of its host names has a certificate."""
    hostnames = list(gateway.hostnames.order_by("hostname"))
    if gateway.kind == Gateway.Kind.SELF_HOSTED:
        env = [
            f"PORTICO_GATEWAY={gateway.name}",
            f"PORTICO_CONTROL_URL={control}",
            f"PORTICO_GATEWAY_TOKEN={token or '<node token: regenerate one above>'}",
        ]
    else:  # managed nodes read the catalog from the database
        env = [
            f"PORTICO_GATEWAY={gateway.name}",
            "DATABASE_URL=postgres://<user>:<password>@<database-host>:5432/<database>",
            "SECRET_KEY=<the portal's SECRET_KEY>",
            "ALLOWED_HOSTS=" + (",".join(h.hostname for h in hostnames) or "<gateway host name>"),
        ]
    env.append("REDIS_URL=redis://<redis-host>:6379/0  # shared counters across workers and nodes")
    lines = [f"export {line}" for line in env]
    if any(h.certificate_id for h in hostnames):
        lines.append("python manage.py run_gateway --host 0.0.0.0 --port 443 --workers 2 --tls")
    else:
        lines.append("python manage.py run_gateway --host 0.0.0.0 --port 8000 --workers 2")
    return "\n".join(lines)
