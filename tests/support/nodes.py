"""Self-hosted gateway nodes for tests: a control plane and nodes with no database, on loopback."""

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.servers import ServerProcess


def start_control_plane(log_dir: Path, port: int | None = None, **env: str) -> ServerProcess:
    """The control plane (pages, admin, REST API and the node endpoints) on the test database."""
    return ServerProcess("portal", log_dir, port=port, **env)


def start_node(
    log_dir: Path,
    *,
    control_url: str,
    gateway: str,
    token: str,
    var_dir: Path,
    port: int | None = None,
    workers: int = 1,
    args: tuple[str, ...] = (),
    tls: bool = False,
    **env: str,
) -> ServerProcess:
    """A self-hosted node (`run_gateway`): no database, configuration from `control_url`;
    `args` go to run_gateway (`tls`: it serves https/wss only)."""
    return ServerProcess(
        "gateway",
        log_dir,
        port=port,
        workers=workers,
        args=args,
        tls=tls,
        DATABASE_URL="",
        PORTICO_GATEWAY=gateway,
        PORTICO_CONTROL_URL=control_url,
        PORTICO_GATEWAY_TOKEN=token,
        PORTICO_VAR_DIR=str(var_dir),
        **env,
    )


def http(url: str, *, method="GET", headers=None, body=None, timeout=30.0):
    """(status, headers with lower-case names, body bytes) of a plain HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
