"""How a gateway node runs: uvicorn with the options the relay needs."""

import uvicorn
from django.conf import settings


def uvicorn_config(*, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        "portal.asgi:application",
        host=host,
        port=port,
        loop="auto",
        ws="websockets-sansio",
        # The consumer enforces each API's own limit; this is only the ceiling for all of them.
        ws_max_size=settings.PORTICO_MAX_MESSAGE_BYTES_CEILING,
        ws_ping_interval=settings.PORTICO_KEEPALIVE_SECONDS or None,
        ws_ping_timeout=settings.PORTICO_KEEPALIVE_SECONDS or None,
        ws_per_message_deflate=False,
        # Lifespan only to flush telemetry at shutdown, after open connections have closed.
        lifespan="on",
        # Access lines would print query strings, which can carry subscription keys.
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=settings.PORTICO_SHUTDOWN_GRACE_SECONDS,
        log_config=None,
    )


def serve(*, host: str, port: int) -> None:
    uvicorn.Server(uvicorn_config(host=host, port=port)).run()
