"""Frames that arrive one byte per TCP segment, on both legs, through the real gateway
(issue 23, item 9): each is relayed like any other, and the connection closes with a close frame.

They hold in both relay modes (`PORTICO_RELAY_MODE=framed` runs them on the framed relay).
"""

import pytest
from websockets.frames import Close, Frame, Opcode

from tests.support.raw_client import RawClient
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def masked(opcode: Opcode, payload: bytes, *, fin: bool = True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=True)


def read_until_close(client: RawClient, limit: int = 2000) -> list[Frame]:
    """Frames until a close frame; stops (without one) if the gateway drops the connection."""
    seen: list[Frame] = []
    for _ in range(limit):
        got = client.read_frames()
        seen.extend(got)
        if any(f.opcode is Opcode.CLOSE for f in got):
            return seen
        if not got and not client.established():
            return seen
    raise AssertionError(f"no close frame after {limit} reads")


def read_until_text(client: RawClient, limit: int = 2000) -> list[Frame]:
    seen: list[Frame] = []
    for _ in range(limit):
        got = client.read_frames()
        seen.extend(got)
        if any(f.opcode in (Opcode.TEXT, Opcode.CLOSE) for f in got):
            return seen
        if not got and not client.established():
            return seen
    raise AssertionError(f"no message after {limit} reads")


def close_of(frames: list[Frame]) -> tuple[int, str] | None:
    for frame in frames:
        if frame.opcode is Opcode.CLOSE:
            close = Close.parse(frame.data)
            return close.code, close.reason
    return None


def test_frames_sent_one_byte_per_segment_are_relayed_both_ways_and_close_cleanly(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)
    mark = len(gateway.output())
    answer = "ünïcode, one byte at a time; " + "x" * 130  # a 16-bit length back
    client = RawClient(f"{gateway.ws_url}/echo?subscription-key={catalog.key}")
    try:
        # A fragmented message with a ping between its frames, one byte per segment.
        client.send_trickled(
            masked(Opcode.TEXT, b"!trickle ", fin=False)
            + masked(Opcode.PING, b"still there?")
            + masked(Opcode.CONT, answer.encode())
        )
        frames = read_until_text(client)
        texts = [f.data.decode() for f in frames if f.opcode is Opcode.TEXT]
        pongs = [bytes(f.data) for f in frames if f.opcode is Opcode.PONG]
        client.send_trickled(masked(Opcode.CLOSE, Close(1000, "done").serialize()))
        closed = close_of(read_until_close(client))
    finally:
        client.close()
    assert texts == [answer]  # the backend wrote it one byte per segment
    assert pongs == [b"still there?"]
    assert closed == (1000, "done")
    seen = backend.requests[-1]
    assert seen.received == [f"!trickle {answer}"]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.closed_reason) == (1000, "done")
    assert "Traceback" not in gateway.output()[mark:]


def test_a_backend_close_sent_one_byte_per_segment_reaches_the_client(gateway, catalog, backend):
    serve_current_catalog(gateway)
    mark = len(gateway.output())
    client = RawClient(f"{gateway.ws_url}/echo?subscription-key={catalog.key}")
    try:
        client.send_trickled(masked(Opcode.TEXT, "!trickle-close 4001 au revoir, ünïcode".encode()))
        frames = read_until_close(client)
    finally:
        client.close()
    assert close_of(frames) == (4001, "au revoir, ünïcode")
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 4001
    assert "Traceback" not in gateway.output()[mark:]
