"""CPU per call of the tunnel's data_received for one whole 64 B frame per read (its fast path),
next to a bare byte relay's (`data_received` -> the peer's `write`): Python's own per-message
work, without sockets. Run: .venv/bin/python bench/tunnel_micro.py [--calls 1000000]
The transports are stand-ins whose write does nothing (in C); prints figures, asserts nothing."""

import argparse
import asyncio
import time

from websockets.frames import Frame, Opcode

from gateway.relay.tunnel import Tunnel


class NullTransport:
    # A C function of one argument, as uvloop's `transport.write` is (a Python method here
    # would hide what calling a C method through a leg's slot costs). A builtin is no
    # descriptor: `NullTransport().write` is `len` itself.
    write = len


class ByteRelay(asyncio.Protocol):
    """The floor: what a relay that does not read frames does per read."""

    def __init__(self, out) -> None:
        self.out = out

    def data_received(self, data: bytes) -> None:
        self.out(data)


async def measure(calls: int, repeat: int) -> None:
    tunnel = Tunnel(
        max_message_bytes=1 << 20, idle_timeout=600, max_duration=0, close_grace=60, keepalive=30
    )
    for leg in (tunnel.client, tunnel.backend):
        leg.transport = NullTransport()
    tunnel.client.out = tunnel.backend.transport.write
    tunnel.backend.out = tunnel.client.transport.write
    payload = b"a" * 64
    rows = [
        ("byte relay (floor)", ByteRelay(NullTransport().write).data_received, payload),
        (
            "client text",
            tunnel.client.data_received,
            Frame(Opcode.TEXT, payload).serialize(mask=True),
        ),
        (
            "backend text",
            tunnel.backend.data_received,
            Frame(Opcode.TEXT, payload).serialize(mask=False),
        ),
        (
            "client binary",
            tunnel.client.data_received,
            Frame(Opcode.BINARY, payload).serialize(mask=True),
        ),
        (
            "backend binary",
            tunnel.backend.data_received,
            Frame(Opcode.BINARY, payload).serialize(mask=False),
        ),
    ]
    for name, call, data in rows:
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            for _ in range(calls):
                call(data)
            best = min(best, time.process_time() - start)
        print(f"{name:20s} {best / calls * 1e9:6.0f} ns CPU per read (best of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.calls, args.repeat))


if __name__ == "__main__":
    main()
