"""A real `websockets` backend for the tests: echoes, records what it saw, obeys '!' commands.

Commands (text messages): "!close <code> <reason>", "!drop" (no close frame), "!send-bytes <n>",
"!send-text <n>", "!last <text>" (sends it, then closes 4000 at once), "!send-invalid-utf8" (a
raw text frame that is not UTF-8), "!send-fragments <a> <b> ..." (one text message, one frame
per word), "!flood <count> <size>" (binary messages, as fast as the
gateway takes them; `flood_sent` counts them), "!trickle <text>" and "!trickle-close <code>
<reason>" (a text or close frame written one byte per TCP segment); anything else is echoed.
The request path "/reject" answers HTTP 403.
"""

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Close, Frame, Opcode

TRICKLE_PAUSE = 0.002  # between the bytes of a trickled frame: each goes in a segment of its own


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    subprotocol: str | None
    closed_code: int | None = None
    closed_reason: str | None = None
    closed_at: float | None = None
    received: list = field(default_factory=list)
    remote: str = ""  # the connecting gateway's address


class BackendServer:
    def __init__(self, host: str = "127.0.0.1", *, ssl=None) -> None:
        """`ssl`: a server SSLContext to serve wss:// instead of ws://."""
        self.host = host
        self.ssl = ssl
        self.requests: list[SeenRequest] = []
        self.open_connections = 0
        self.flood_sent = 0  # messages "!flood" got out so far (the last flood)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-backend", daemon=True)

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.port}"

    def start(self) -> "BackendServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test backend did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    def reset(self) -> None:
        self.requests.clear()

    def wait_closed(self, request: SeenRequest, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if request.closed_at is not None:
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(
            self._handle,
            self.host,
            0,
            max_size=2 * 1024 * 1024,
            compression=None,
            process_request=self._process_request,
            select_subprotocol=lambda conn, offered: offered[0] if offered else None,
            ssl=self.ssl,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    def _process_request(self, connection, request):
        if request.path.startswith("/reject"):
            return connection.respond(HTTPStatus.FORBIDDEN, "go away\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        seen = SeenRequest(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.raw_items()},
            subprotocol=connection.subprotocol,
            remote=connection.remote_address[0],
        )
        self.requests.append(seen)
        self.open_connections += 1
        try:
            async for message in connection:
                seen.received.append(message)
                if isinstance(message, str) and message.startswith("!"):
                    if await self._command(connection, message):
                        break
                else:
                    await connection.send(message)
        except Exception:  # noqa: BLE001 - closed abnormally; recorded below
            pass
        finally:
            await connection.wait_closed()
            self.open_connections -= 1
            if connection.protocol.close_rcvd is not None:
                seen.closed_code = connection.protocol.close_rcvd.code
                seen.closed_reason = connection.protocol.close_rcvd.reason
            seen.closed_at = time.monotonic()

    async def _command(self, connection: ServerConnection, message: str) -> bool:
        verb, _, arg = message.partition(" ")
        if verb == "!close":
            code, _, reason = arg.partition(" ")
            await connection.close(int(code), reason)
            return True
        if verb == "!last":
            await connection.send(arg)
            await connection.close(4000, "that was the last")
            return True
        if verb == "!drop":
            connection.transport.abort()
            return True
        if verb == "!send-bytes":
            await connection.send(b"\xab" * int(arg))
        elif verb == "!send-text":
            await connection.send("é" * int(arg))
        elif verb == "!send-fragments":
            await connection.send(arg.split(" "))  # an iterable: one fragment each
        elif verb == "!trickle":
            await trickle(connection, Frame(Opcode.TEXT, arg.encode()))
        elif verb == "!trickle-close":
            code, _, reason = arg.partition(" ")
            await trickle(connection, Frame(Opcode.CLOSE, Close(int(code), reason).serialize()))
        elif verb == "!send-invalid-utf8":
            connection.transport.write(b"\x81\x02\xff\xfe")  # FIN + text, 2 bytes, unmasked
        elif verb == "!flood":
            count, _, size = arg.partition(" ")
            payload = b"\xab" * int(size)
            self.flood_sent = 0
            for _ in range(int(count)):
                await connection.send(payload)
                self.flood_sent += 1
        return False


async def trickle(connection: ServerConnection, frame: Frame) -> None:
    """Write `frame` one byte at a time, each flushed at once (TCP_NODELAY) after a pause."""
    connection.transport.get_extra_info("socket").setsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    for byte in frame.serialize(mask=False):
        connection.transport.write(bytes([byte]))
        await asyncio.sleep(TRICKLE_PAUSE)


class HangingServer:
    """Accepts TCP connections and never answers: a backend that hangs in its handshake."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
