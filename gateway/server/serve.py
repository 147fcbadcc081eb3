"""How a gateway node runs: uvicorn with the options the relay needs, on its own listening socket.

Workers of one node (`gateway.server.workers`) each bind the same port with SO_REUSEPORT and let the
kernel balance new connections between them.
"""

import os
import socket
import ssl

import uvicorn
from django.db import connections

from gateway.config import GatewayConfig
from gateway.server.admission import GatedHttpProtocol, GatedWebSocketProtocol, HandshakeGate

DATA_PLANE = "gateway.asgi:application"
BOTH_PLANES = "portal.asgi:application"  # the demo: portal and gateway in one process


class GatewayUvicornConfig(uvicorn.Config):
    """uvicorn's Config, carrying the GatewayConfig its protocols read (handshake and close
    time bounds) the way they read uvicorn's own options, and this worker's handshake gate."""

    def __init__(self, *args, gateway: GatewayConfig, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = gateway
        limit = gateway.handshake_concurrency
        self.admission = HandshakeGate(limit) if limit > 0 else None


def uvicorn_config(
    *,
    host: str,
    port: int,
    app=DATA_PLANE,
    config: GatewayConfig | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> uvicorn.Config:
    """`app` is an import string or an application; `config` defaults to the settings';
    `ssl_context` serves TLS (see `gateway.server.tls`)."""
    config = config or GatewayConfig.from_settings()
    return GatewayUvicornConfig(
        app,
        gateway=config,
        host=host,
        port=port,
        loop="auto",
        # httptools and websockets-sansio, with handshake timeouts and bounded closes, and at
        # most `handshake_concurrency` handshakes in progress (gateway.server.admission).
        http=GatedHttpProtocol,
        ws=GatedWebSocketProtocol,
        # uvicorn's 2048 overflowed in a reconnect storm (each dropped SYN costs its client a
        # 1, 3, 7 s retransmit); the kernel caps it at net.core.somaxconn.
        backlog=config.listen_backlog,
        # The consumer enforces each API's own limit; this is only the ceiling for all of them.
        ws_max_size=config.max_message_bytes_ceiling,
        ws_ping_interval=config.keepalive_seconds or None,
        ws_ping_timeout=config.keepalive_seconds or None,
        ws_per_message_deflate=False,
        # Lifespan only to flush telemetry at shutdown, after open connections have closed.
        lifespan="on",
        # Access lines would print query strings, which can carry subscription keys.
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=config.shutdown_grace_seconds,
        log_config=None,
        ssl_context_factory=(lambda _config, _default: ssl_context) if ssl_context else None,
    )


def bound_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A bound TCP socket (uvicorn makes it listen); `shared` lets the other workers bind it too.

    Only workers of one supervisor share: a lone process binds exclusively, so a port already
    taken fails at once instead of silently splitting traffic with a stranger.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def keep_database_connections() -> None:
    """A managed gateway's database work (live reports twice a second, telemetry batches,
    heartbeats, catalog polls) all runs on asgiref's one thread-sensitive thread: its connection
    stays open between calls instead of being opened for each. A connection that failed is
    closed by the next call's `close_old_connections`, so the call after an outage reconnects.
    Only the data plane: the portal's requests each get a thread of their own."""
    if "DATABASE_CONN_MAX_AGE" in os.environ:
        return  # the operator's choice stands
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = None


def serve(
    *,
    host: str,
    port: int,
    app=DATA_PLANE,
    shared: bool = False,
    config: GatewayConfig | None = None,
    data_plane_only: bool | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Serve in this process until SIGTERM/SIGINT, which drains open connections gracefully."""
    if data_plane_only if data_plane_only is not None else app == DATA_PLANE:
        keep_database_connections()
    sock = bound_socket(host, port, shared=shared)
    config = uvicorn_config(host=host, port=port, app=app, config=config, ssl_context=ssl_context)
    uvicorn.Server(config).run(sockets=[sock])
