"""The tunnel's frame walker under every TCP split (issue 23, item 9).

TCP may cut a stream anywhere: a frame read one byte at a time, or cut inside its header, its
extended length or its mask key, must be relayed exactly as the same frame read whole. A real
`Tunnel` (both `Leg`s, its close handling) is fed through `data_received`; its transports are
byte recorders, the only part of the stack that is not the gateway's own.
"""

import asyncio

import pytest
from websockets.frames import Close, Frame, Opcode

from gateway.relay.tunnel import Tunnel, close_frame

LIMIT = 1 << 20


class Recorder:
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False

    def write(self, data) -> None:
        self.chunks.append(bytes(data))

    def data(self) -> bytes:
        return b"".join(self.chunks)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name, default=None):
        return default

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def wired_tunnel() -> Tunnel:
    tunnel = Tunnel(
        max_message_bytes=LIMIT, idle_timeout=0, max_duration=0, close_grace=60, keepalive=0
    )
    for leg in (tunnel.client, tunnel.backend):
        leg.transport = Recorder()
    tunnel.client.out = tunnel.backend.transport.write
    tunnel.backend.out = tunnel.client.transport.write
    return tunnel


def frame(opcode: Opcode, payload: bytes, *, fin: bool = True, masked: bool) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=masked)


def streams(masked: bool) -> dict[str, tuple[bytes, int, int]]:
    """Frame sequences as one peer sends them: (bytes, messages in them, payload bytes)."""
    text = "héllo wörld, ünïcode split in the middle of its characters".encode()
    parts = {
        "text": ([frame(Opcode.TEXT, text, masked=masked)], 1, len(text)),
        "binary": ([frame(Opcode.BINARY, bytes(range(100)), masked=masked)], 1, 100),
        "empty text": ([frame(Opcode.TEXT, b"", masked=masked)], 1, 0),
        "empty binary": ([frame(Opcode.BINARY, b"", masked=masked)], 1, 0),
        "7-bit max (125)": ([frame(Opcode.BINARY, b"\x07" * 125, masked=masked)], 1, 125),
        "16-bit (126)": ([frame(Opcode.TEXT, b"x" * 126, masked=masked)], 1, 126),
        "16-bit binary": ([frame(Opcode.BINARY, b"\x16" * 1000, masked=masked)], 1, 1000),
        "fragmented text with control frames between": (
            [
                frame(Opcode.TEXT, "frä".encode(), fin=False, masked=masked),
                frame(Opcode.PING, b"in between", masked=masked),
                frame(Opcode.CONT, b"", fin=False, masked=masked),
                frame(Opcode.PONG, b"", masked=masked),
                frame(Opcode.CONT, "gmënt".encode() * 30, masked=masked),
            ],
            1,
            len("frä".encode()) + len("gmënt".encode()) * 30,
        ),
        "fragmented binary": (
            [
                frame(Opcode.BINARY, b"\x01" * 10, fin=False, masked=masked),
                frame(Opcode.CONT, b"\x02" * 300, fin=False, masked=masked),
                frame(Opcode.CONT, b"\x03", masked=masked),
            ],
            1,
            311,
        ),
        "ping": ([frame(Opcode.PING, b"are you there", masked=masked)], 0, 0),
        "empty ping": ([frame(Opcode.PING, b"", masked=masked)], 0, 0),
        "pong": ([frame(Opcode.PONG, b"x" * 125, masked=masked)], 0, 0),
        "two messages in a row": (
            [frame(Opcode.TEXT, b"one", masked=masked), frame(Opcode.BINARY, b"2", masked=masked)],
            2,
            4,
        ),
    }
    return {name: (b"".join(frames), count, size) for name, (frames, count, size) in parts.items()}


def splits(data: bytes):
    """`data` cut once at every byte position, and one byte per read."""
    for cut in range(1, len(data)):
        yield cut, [data[:cut], data[cut:]]
    yield "bytewise", [data[i : i + 1] for i in range(len(data))]


def relay(reads: list[bytes], *, from_client: bool):
    """Feed `reads` to one leg of a fresh tunnel: (the tunnel, the leg, what its peer got)."""
    tunnel = wired_tunnel()
    leg = tunnel.client if from_client else tunnel.backend
    for chunk in reads:
        leg.data_received(chunk)
    return tunnel, leg, leg.peer.transport.data()


def assert_at_rest(tunnel: Tunnel, leg, where) -> None:
    state = (leg.hold, leg.need, leg.message, leg.size, leg.tail, leg.reading, leg.fast)
    assert state == (b"", 0, 0, 0, b"", True, True), where
    assert tunnel.stats.closed_by in ("", None), where
    assert not leg.transport.chunks and not leg.peer.sealed, where


@pytest.mark.parametrize("from_client", [True, False], ids=["client->backend", "backend->client"])
@pytest.mark.parametrize("kind", list(streams(True)))
def test_frames_split_at_every_byte_are_relayed_unchanged(kind, from_client):
    data, messages, size = streams(from_client)[kind]

    async def check() -> None:
        for where, reads in splits(data):
            tunnel, leg, forwarded = relay(reads, from_client=from_client)
            assert forwarded == data, (kind, where)
            assert_at_rest(tunnel, leg, (kind, where))
            stats = tunnel.stats
            counted = (
                (stats.messages_up, stats.bytes_up)
                if from_client
                else (stats.messages_down, stats.bytes_down)
            )
            assert counted == (messages, size), (kind, where)

    asyncio.run(check())


@pytest.mark.parametrize("from_client", [True, False], ids=["client->backend", "backend->client"])
@pytest.mark.parametrize("opcode", [Opcode.BINARY, Opcode.TEXT])
def test_a_frame_with_a_64_bit_length_split_anywhere_is_relayed_unchanged(opcode, from_client):
    payload = b"z" * 65536  # the smallest length that needs the 64-bit form
    data = frame(opcode, payload, masked=from_client)

    async def check() -> None:
        for where, reads in splits(data):
            tunnel, leg, forwarded = relay(reads, from_client=from_client)
            assert forwarded == data, where
            assert_at_rest(tunnel, leg, where)

    asyncio.run(check())


@pytest.mark.parametrize("from_client", [True, False], ids=["client->backend", "backend->client"])
@pytest.mark.parametrize("code, reason", [(1000, ""), (4001, "bye, ünïcode"), (1005, None)])
def test_a_close_frame_split_at_every_byte_closes_both_sides_cleanly(code, reason, from_client):
    payload = b"" if reason is None else Close(code, reason).serialize()
    last = frame(Opcode.TEXT, b"last", masked=from_client)
    data = last + frame(Opcode.CLOSE, payload, masked=from_client)
    reason = reason or ""
    echo = close_frame(code, reason, mask=not from_client)
    onward = close_frame(1000 if code == 1005 else code, reason, mask=from_client)
    side = "client" if from_client else "backend"

    async def check() -> None:
        for where, reads in splits(data):
            tunnel, leg, got = relay(reads, from_client=from_client)
            stats = tunnel.stats
            closed = (stats.closed_by, stats.close_code, stats.close_reason)
            assert closed == (side, code, reason), where
            # The message before it went on; then our close frame, not the peer's bytes.
            assert got[: len(last)] == last, where
            assert _close(got[len(last) :], from_client) == _close(onward, from_client), where
            assert _close(leg.transport.data(), not from_client) == _close(echo, not from_client)
            assert leg.transport.closed, where  # its close was answered: the transport closes
            assert (leg.reading, leg.hold, tunnel.stats.messages_up + stats.messages_down) == (
                False,
                b"",
                1,
            ), where

    asyncio.run(check())


def _close(data: bytes, masked: bool) -> tuple[int, bytes]:
    """One whole close frame's first byte and payload (mask keys are random)."""
    head = 2
    length = data[1] & 127
    assert len(data) == head + 4 * masked + length, data
    if masked:
        key = data[head : head + 4]
        body = bytes(b ^ key[i % 4] for i, b in enumerate(data[head + 4 : head + 4 + length]))
    else:
        body = data[head : head + length]
    return data[0], body


@pytest.mark.parametrize("length", [0, 3, 124, 125, 126, 200])
@pytest.mark.parametrize("from_client", [True, False], ids=["client->backend", "backend->client"])
def test_a_frame_masked_the_wrong_way_is_refused_however_it_is_split(length, from_client):
    # A client's read of 2 to 5 bytes can look like a whole frame with a 124 to 127 byte
    # length when its mask bit is clear: it must not pass as one.
    data = frame(Opcode.BINARY, b"\x00" * length, masked=not from_client)
    side = "client" if from_client else "gateway"

    async def check() -> None:
        for where, reads in splits(data):
            tunnel, leg, forwarded = relay(reads, from_client=from_client)
            stats = tunnel.stats
            closed = (stats.closed_by, stats.close_code, stats.close_reason)
            assert closed == (side, 1002, "incorrect masking"), where
            assert not forwarded.startswith(data[:2]), where

    asyncio.run(check())


@pytest.mark.parametrize("from_client", [True, False], ids=["client->backend", "backend->client"])
@pytest.mark.parametrize(
    "code, valid",
    [(1000, True), (1001, True), (1014, True), (3000, True), (4999, True)]
    + [(999, False), (1004, False), (1005, False), (1006, False), (1015, False), (2999, False)]
    + [(5000, False), (65535, False)],
)
def test_a_close_code_alone_is_judged_as_websockets_judges_it(code, valid, from_client):
    """A close frame with a code and no reason (the usual close) takes a short path; it must
    accept and refuse exactly the codes websockets' `Close.parse` does (1002 otherwise)."""
    data = frame(Opcode.CLOSE, code.to_bytes(2, "big"), masked=from_client)
    side = "client" if from_client else "backend"

    async def check() -> None:
        tunnel, _, _ = relay([data], from_client=from_client)
        stats = tunnel.stats
        closed = (stats.closed_by, stats.close_code, stats.close_reason)
        if valid:
            assert closed == (side, code, "")
        else:
            assert closed[1:] == (1002, "invalid close frame")

    asyncio.run(check())
