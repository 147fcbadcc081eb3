"""Raw frames through the relay where the tunnel differs from re-framing: fragments, control
frames between fragments, closes injected at frame boundaries, backpressure, keep-alive.

They hold in both relay modes (`PORTICO_RELAY_MODE=framed` runs them on the framed relay).
"""

import time

import pytest
from websockets.frames import Frame, Opcode

from apis import services
from tests.support.raw_client import RawClient
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def key_url(server, catalog) -> str:
    return f"{server.ws_url}/echo?subscription-key={catalog.key}"


def masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return Frame(Opcode(opcode), payload, fin=fin).serialize(mask=True)


def frames_until_close(client: RawClient, limit: int = 2000) -> list[Frame]:
    seen: list[Frame] = []
    for _ in range(limit):
        got = client.read_frames()
        seen.extend(got)
        if any(f.opcode is Opcode.CLOSE for f in got) or client.protocol.close_rcvd is not None:
            return seen
        if not got and not client.established():
            return seen
    raise AssertionError("no close frame")


def test_a_fragmented_message_over_the_limit_closes_1009_and_never_reaches_the_backend_whole(
    gateway, catalog, backend
):
    services.update_api(api=catalog.api, max_message_bytes=1000)
    serve_current_catalog(gateway)
    client = RawClient(key_url(gateway, catalog))
    try:
        client.send_raw(masked(1, b"a" * 600, fin=False))  # each fragment under the limit
        client.send_raw(masked(0, b"b" * 600))  # together over it
        close = [f for f in frames_until_close(client) if f.opcode is Opcode.CLOSE]
    finally:
        client.close()
    assert close and int.from_bytes(close[0].data[:2], "big") == 1009
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1001
    assert all(len(m) < 1200 for m in seen.received)


def test_control_frames_between_fragments_pass_and_the_message_arrives_whole(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)
    client = RawClient(key_url(gateway, catalog))
    try:
        client.send_raw(
            masked(1, b"hello ", fin=False)
            + masked(9, b"are you there")
            + masked(0, b"fragmented ", fin=False)
            + masked(10, b"unsolicited")
            + masked(0, b"world")
        )
        texts, pongs = [], []
        while not texts:
            for frame in client.read_frames():
                if frame.opcode is Opcode.TEXT:
                    texts.append(frame.data.decode())
                elif frame.opcode is Opcode.PONG:
                    pongs.append(bytes(frame.data))
        client.send_text("after")
        while len(texts) < 2:
            texts.extend(f.data.decode() for f in client.read_frames() if f.opcode is Opcode.TEXT)
    finally:
        client.close()
    assert texts == ["hello fragmented world", "after"]
    assert pongs == [b"are you there"]  # answered (by the backend, or by the framed relay)
    assert backend.requests[-1].received == ["hello fragmented world", "after"]


def test_a_revocation_while_a_large_frame_is_in_flight_closes_after_that_frame(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)
    client = RawClient(key_url(gateway, catalog), rcvbuf=4096)
    try:
        client.send_text("!send-bytes 1048576")  # one 1 MiB frame; we do not read it yet
        time.sleep(0.3)  # let it fill the buffers (not a timing assertion)
        services.suspend_subscription(subscription=catalog.subscription)
        serve_current_catalog(gateway)  # the gateway has the change: the revocation is done
        frames = frames_until_close(client, limit=100000)
    finally:
        client.close()
    data = [f for f in frames if f.opcode is Opcode.BINARY]
    closes = [f for f in frames if f.opcode is Opcode.CLOSE]
    assert [len(f.data) for f in data] in ([1048576], [])  # whole, or not at all (framed)
    assert data == [] or data[0].data == b"\xab" * 1048576
    assert closes, "no close frame after the frame in flight"
    assert int.from_bytes(closes[0].data[:2], "big") == 1008
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1001


def test_backpressure_holds_the_backend_until_a_stalled_client_reads_then_everything_arrives(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)
    client = RawClient(key_url(gateway, catalog), rcvbuf=4096)
    try:
        client.send_text("!flood 400 65536")  # 25 MiB; then the client stops reading
        last, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 1.0:
            if backend.flood_sent != last:
                last, stable_since = backend.flood_sent, time.monotonic()
            time.sleep(0.05)
        stalled = backend.flood_sent
        received = 0
        while received < 400:
            for frame in client.read_frames(1 << 20):
                if frame.opcode is Opcode.BINARY:
                    assert len(frame.data) == 65536
                    received += 1
        client.send_text("done?")
        echoed = []
        while not echoed:
            echoed = [f for f in client.read_frames() if f.opcode is Opcode.TEXT]
    finally:
        client.close()
    assert stalled < 400  # the backend was held: the gateway stopped reading it
    assert received == 400
    assert echoed[0].data == b"done?"


def test_a_client_that_never_answers_pings_is_dropped_and_the_backend_gets_1001(
    catalog, backend, server_logs
):
    server = ServerProcess(
        "uvicorn",
        server_logs,
        PORTICO_KEEPALIVE_SECONDS="1",
        PORTICO_CLOSE_GRACE_SECONDS="1",
    )
    try:
        serve_current_catalog(server)
        client = RawClient(key_url(server, catalog))
        try:
            client.send_text("hi")  # echoed; then the client neither reads nor pongs
            ended = client.wait_ended(timeout=10)
        finally:
            client.close()
        seen = backend.requests[-1]
        assert backend.wait_closed(seen)
    finally:
        server.stop()
    assert ended is not None, "the gateway still holds a client that does not answer pings"
    assert seen.closed_code == 1001
    assert "Traceback" not in server.output()
