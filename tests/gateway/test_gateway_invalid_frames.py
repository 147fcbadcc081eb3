"""Invalid frames from either side close the connection with the right codes and no traceback."""

import os

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

from tests.support.client import run, ws_connect
from tests.support.raw_client import RawClient
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def key_url(gateway, catalog) -> str:
    return f"{gateway.ws_url}/echo?subscription-key={catalog.key}"


def new_log_lines(gateway, since: int) -> str:
    return gateway.output()[since:]


def close_frame_from(client: RawClient):
    for _ in range(50):
        for frame in client.read_frames():
            if frame.opcode is Opcode.CLOSE:
                return frame
        if client.protocol.close_rcvd is not None:
            return client.protocol.close_rcvd
    raise AssertionError("no close frame")


def test_invalid_utf8_from_the_backend_closes_backend_1007_and_client_1014(
    gateway, catalog, backend
):
    serve_current_catalog(gateway)
    mark = len(gateway.output())

    async def scenario():
        async with ws_connect(key_url(gateway, catalog)) as ws:
            await ws.send("!send-invalid-utf8")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return ws.close_code

    assert run(scenario()) == 1014
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert seen.closed_code == 1007
    log = new_log_lines(gateway, mark)
    assert "Traceback" not in log
    assert " ERROR " not in log


@pytest.mark.parametrize(
    ("case", "code"),
    [("invalid UTF-8 text", 1007), ("reserved bit set", 1002), ("unmasked frame", 1002)],
)
def test_invalid_frames_from_the_client_log_one_info_line_and_no_traceback(
    gateway, catalog, backend, case, code
):
    serve_current_catalog(gateway)
    mark = len(gateway.output())
    client = RawClient(key_url(gateway, catalog))
    try:
        client.send_text("hello")
        mask = os.urandom(4)
        if case == "invalid UTF-8 text":
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\xff\xfe"))
            client.send_raw(b"\x81\x82" + mask + payload)
        elif case == "reserved bit set":
            client.send_raw(b"\xc1\x80" + mask)  # FIN + RSV1 + text, empty, masked
        else:
            client.send_raw(b"\x81\x02hi")  # a client frame without a mask
        close = close_frame_from(client)
    finally:
        client.close()
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    log = new_log_lines(gateway, mark)
    assert "Traceback" not in log
    assert " ERROR " not in log
    assert close is not None
    infos = [line for line in log.splitlines() if "invalid frame" in line and " INFO " in line]
    assert len(infos) == 1, log
    assert "correlation=" in infos[0]
    assert str(code) in infos[0]
