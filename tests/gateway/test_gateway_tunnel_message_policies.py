"""onMessage policies that need only frame headers and counts (limit-message-size, per-connection
rate-limit-messages) keep the tunnel, with the framed relay's verdicts; any other falls back.

The tunnel forwards a backend's fragments as they are, the framed relay reassembles them: that
tells which relay a connection got. Every test holds in both relay modes.
"""

import os
import time

import pytest
from websockets.frames import Frame, Opcode

from apis import services
from apis.telemetry.models import ConnectionLog
from tests.support.policy_xml import on_message
from tests.support.raw_client import RawClient
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TUNNEL = os.environ.get("PORTICO_RELAY_MODE", "auto") != "framed"
SCHEMA = '{"type": "object"}'


def connect(gateway, catalog, policy_xml: str, **changes) -> RawClient:
    services.update_api(api=catalog.api, policy_xml=policy_xml, **changes)
    serve_current_catalog(gateway)
    return RawClient(f"{gateway.ws_url}/echo?subscription-key={catalog.key}")


def masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return Frame(Opcode(opcode), payload, fin=fin).serialize(mask=True)


def data_frames(client: RawClient, messages: int) -> list[Frame]:
    """Text and binary frames (and continuations) until `messages` messages ended."""
    seen: list[Frame] = []
    while sum(1 for f in seen if f.opcode is not Opcode.CLOSE and f.fin) < messages:
        got = client.read_frames()
        assert not any(f.opcode is Opcode.CLOSE for f in got), got
        seen.extend(f for f in got if f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT))
    return seen


def tunnelled(client: RawClient) -> bool:
    client.send_text("!send-fragments one two three")
    frames = data_frames(client, 1)
    assert b"".join(f.data for f in frames) == b"onetwothree"
    return len(frames) > 1  # the framed relay sends it in one frame


def close_of(client: RawClient, data: list | None = None) -> tuple[int, str]:
    """The close frame's code and reason; text and binary frames before it go to `data`."""
    for _ in range(200):
        for frame in client.read_frames():
            if frame.opcode is Opcode.CLOSE:
                return int.from_bytes(frame.data[:2], "big"), frame.data[2:].decode()
            if data is not None and frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                data.append(frame.data)
        if client.protocol.close_rcvd is not None:
            return client.protocol.close_rcvd.code, client.protocol.close_rcvd.reason
    raise AssertionError("no close frame")


def log_row(catalog) -> ConnectionLog:
    return wait_for(
        lambda: (
            ConnectionLog.objects.filter(api_id=catalog.api.id, ended_at__isnull=False)
            .order_by("-id")
            .first()
        )
    )


def log_after(gateway, mark: int, text: str) -> str:
    deadline = time.monotonic() + 5
    while text not in gateway.output()[mark:] and time.monotonic() < deadline:
        time.sleep(0.05)
    return gateway.output()[mark:]


def test_size_and_rate_policies_keep_the_tunnel(gateway, catalog, backend):
    client = connect(
        gateway,
        catalog,
        on_message(
            inbound='<limit-message-size max-bytes="5000"/>'
            '<rate-limit-messages calls="100" renewal-period="60" action="drop"/>',
            outbound='<rate-limit-messages calls="100" renewal-period="60" action="close"/>'
            '<limit-message-size max-bytes="4000"/>',
        ),
    )
    try:
        assert tunnelled(client) is TUNNEL
    finally:
        client.close()


def test_a_payload_reading_policy_falls_back_to_the_framed_relay(gateway, catalog, backend):
    client = connect(
        gateway,
        catalog,
        on_message(
            inbound='<limit-message-size max-bytes="5000"/>'
            f'<validate-message action="log"><schema>{SCHEMA}</schema></validate-message>'
        ),
    )
    try:
        assert not tunnelled(client)
    finally:
        client.close()


def test_a_fragmented_message_over_the_policy_limit_closes_as_the_policy_says(
    gateway, catalog, backend
):
    client = connect(gateway, catalog, on_message(inbound='<limit-message-size max-bytes="1000"/>'))
    mark = len(gateway.output())
    try:
        client.send_raw(masked(1, b"a" * 600, fin=False))  # each fragment under the limit
        client.send_raw(masked(0, b"b" * 600))  # together over it
        code, reason = close_of(client)
    finally:
        client.close()
    assert (code, reason) == (1009, "message too big")
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.closed_reason, seen.received) == (1001, "message too big", [])
    row = log_row(catalog)
    assert (row.closed_by, row.close_code, row.close_reason) == (
        "gateway",
        1009,
        "message too big",
    )
    assert "onMessage policy closed the connection: 1009" in log_after(
        gateway, mark, "onMessage policy closed"
    )


def test_a_message_over_the_api_limit_too_closes_as_the_api_limit_says(gateway, catalog, backend):
    # The framed relay checks the API's limit on the whole message before any policy.
    client = connect(
        gateway,
        catalog,
        on_message(inbound='<limit-message-size max-bytes="1000"/>'),
        max_message_bytes=2000,
    )
    try:
        client.send_raw(masked(2, b"a" * 600, fin=False))
        client.send_raw(masked(0, b"b" * 600, fin=False))  # over the policy's limit
        client.send_raw(masked(0, b"c" * 900))  # and over the API's
        code, reason = close_of(client)
    finally:
        client.close()
    assert (code, reason) == (1009, "message too big")
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.closed_reason) == (1001, "client message too big")
    row = log_row(catalog)
    assert (row.closed_by, row.close_code) == ("gateway", 1009)


def test_a_dropped_fragmented_message_is_dropped_whole_and_counted(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="1" renewal-period="1" action="drop"/>'
    client = connect(gateway, catalog, on_message(inbound=policy))
    try:
        started = time.monotonic()
        client.send_text("a")
        client.send_raw(
            masked(1, b"dropped ", fin=False) + masked(9, b"ping") + masked(0, b"whole")
        )
        assert [f.data for f in data_frames(client, 1)] == [b"a"]
        time.sleep(max(0.0, 1.2 - (time.monotonic() - started)))  # a new window
        client.send_text("d")  # after a half-forwarded message the backend would see 1002
        assert [f.data for f in data_frames(client, 1)] == [b"d"]
        client.protocol.send_close(1000)
        client.flush()
        close_of(client)
    finally:
        client.close()
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.received) == (1000, ["a", "d"])
    row = log_row(catalog)
    assert (row.messages_up, row.messages_dropped, row.closed_by) == (2, 1, "client")


def test_a_dropped_fragmented_backend_message_never_reaches_the_client(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="1" renewal-period="60" action="drop"/>'
    client = connect(gateway, catalog, on_message(outbound=policy))
    try:
        client.send_text("!send-fragments not for you")  # the backend's first message: passes
        assert b"".join(f.data for f in data_frames(client, 1)) == b"notforyou"
        client.send_text("!send-fragments dropped too")  # its second: dropped
        client.send_text("!close 4000 done")
        before: list = []
        code, reason = close_of(client, before)
    finally:
        client.close()
    assert (code, reason, before) == (4000, "done", [])
    row = log_row(catalog)
    assert (row.messages_down, row.messages_dropped) == (1, 1)


def test_the_rate_limit_close_gives_the_policy_reason_both_ways(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="1" renewal-period="60" action="close"/>'
    client = connect(gateway, catalog, on_message(inbound=policy))
    try:
        client.send_text("a")
        assert [f.data for f in data_frames(client, 1)] == [b"a"]
        client.send_raw(masked(1, b"frag", fin=False) + masked(0, b"ment"))
        code, reason = close_of(client)
    finally:
        client.close()
    expected = "message rate limit exceeded (1 per 60 s)"
    assert (code, reason) == (1008, expected)
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    assert (seen.closed_code, seen.closed_reason, seen.received) == (1001, expected, ["a"])
    row = log_row(catalog)
    assert (row.closed_by, row.close_code, row.close_reason) == ("gateway", 1008, expected)
