"""A local echo WebSocket backend (the `websockets` library) for the demo API and the benchmark."""

import asyncio
import logging
import signal

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)


async def _echo(connection: ServerConnection) -> None:
    try:
        async for message in connection:
            await connection.send(message)
    except ConnectionClosed:
        pass  # a client that drops without a close frame is routine, not a handler failure


async def run_echo_backend(host: str, port: int, *, ready: asyncio.Event | None = None) -> None:
    """Echo every text and binary message back until SIGINT/SIGTERM."""
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        _echo,
        host,
        port,
        max_size=None,
        compression=None,
        select_subprotocol=lambda conn, offered: offered[0] if offered else None,
    ) as server:
        bound = server.sockets[0].getsockname()
        log.info("echo backend listening on ws://%s:%s", bound[0], bound[1])
        if ready is not None:
            ready.set()
        await stop
