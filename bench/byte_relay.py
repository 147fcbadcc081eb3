"""A bare uvloop byte relay: the floor of any Python proxy on this machine, measured beside nginx.

Each accepted connection opens one to the backend; bytes go from one transport's data_received
to the other's write, with pause/resume when a side's buffer is full. No WebSocket parsing at all
(the handshake and every frame pass through untouched), no policies, no telemetry: what the
interpreter and uvloop cost per read and write, which no WebSocket gateway in Python can beat.

Run by bench/run.py (`--only ...,pyrelay`): python bench/byte_relay.py PORT BACKEND_PORT
"""

import asyncio
import socket
import sys

import uvloop


class Side(asyncio.Protocol):
    """One end of a relayed connection; `peer` is the other end once both are connected."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: Side | None = None
        self.early: list[bytes] = []  # client bytes that came before the backend connected

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self.early.append(data)
            self.transport.pause_reading()  # bounded: nothing more until the backend is there
            return
        peer.transport.write(data)

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()


class Client(Side):
    """The accepted side: it opens the backend side as soon as it is accepted."""

    backend_port = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        asyncio.get_running_loop().create_task(self.open_backend())

    async def open_backend(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, backend = await loop.create_connection(Side, "127.0.0.1", self.backend_port)
        except OSError:
            self.transport.close()
            return
        backend.peer, self.peer = self, backend
        for data in self.early:
            backend.transport.write(data)
        self.early.clear()
        if not self.transport.is_closing():
            self.transport.resume_reading()
        else:
            backend.transport.close()


async def main(port: int, backend_port: int) -> None:
    Client.backend_port = backend_port
    server = await asyncio.get_running_loop().create_server(Client, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), int(sys.argv[2])))
