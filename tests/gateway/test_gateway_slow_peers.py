"""Peers that stop reading or read slowly: time limits hold, keep-alive stays honest, buffers
stay bounded in bytes."""

import time

import pytest

from apis import services
from tests.support.raw_client import RawClient
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 1.0


def key_url(server, catalog) -> str:
    return f"{server.ws_url}/echo?subscription-key={catalog.key}"


def test_a_client_that_stops_reading_is_dropped_at_max_duration_and_the_backend_gets_1001(
    catalog, backend, server_logs
):
    services.update_api(api=catalog.api, max_duration_seconds=3, idle_timeout_seconds=60)
    server = ServerProcess("uvicorn", server_logs, PORTICO_CLOSE_GRACE_SECONDS=str(GRACE))
    try:
        serve_current_catalog(server)
        client = RawClient(key_url(server, catalog), rcvbuf=4096)
        try:
            opened = time.monotonic()
            client.send_text("!flood 100000 16384")  # then never read again
            ended = client.wait_ended(timeout=3 + GRACE + 4)
            held = time.monotonic() - opened
        finally:
            client.close()
        seen = backend.requests[-1]
        assert backend.wait_closed(seen, timeout=5)
    finally:
        server.stop()
    assert ended is not None, "the gateway still holds a client that stopped reading"
    assert held < 3 + GRACE + 1.5  # max duration, close grace, slack for a busy machine
    assert seen.closed_code == 1001
    assert "Traceback" not in server.output()


def test_a_slow_reading_client_does_not_get_a_healthy_backend_closed_for_keepalive(
    catalog, backend, server_logs
):
    server = ServerProcess("uvicorn", server_logs, PORTICO_KEEPALIVE_SECONDS="1")
    try:
        serve_current_catalog(server)
        client = RawClient(key_url(server, catalog), rcvbuf=8192)
        try:
            # 64 KiB messages read at about 160 KB/s: the backend leg stays paused for seconds.
            client.send_text("!flood 100000 65536")
            received, closes = 0, []
            started = time.monotonic()
            while time.monotonic() - started < 6:  # several keep-alive intervals
                for frame in client.read_frames(8192):
                    if frame.opcode.name == "CLOSE":
                        closes.append(frame)
                    received += 1
                time.sleep(0.05)  # the client's pace: the backend leg must stop reading
            flooded = backend.flood_sent
        finally:
            client.close()
        seen = backend.requests[-1]
        assert backend.wait_closed(seen, timeout=5)
    finally:
        server.stop()
    assert closes == [], f"the gateway closed the client: {closes}"
    assert received >= 5  # data kept flowing to the client, slowly
    assert flooded < 100000  # backpressure reached the backend: it was paused, not drained
    assert seen.closed_code != 1011, seen.closed_reason
    assert "keepalive ping timeout" not in (seen.closed_reason or "")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_the_backend_leg_buffers_at_most_about_one_message_limit_in_bytes(
    catalog, backend, server_logs
):
    """4 MiB messages to a client that does not read: 16 queued messages grew it by 77 MiB; now
    about one message each in the queue, the parser and the client socket's buffer."""
    services.update_api(api=catalog.api, max_message_bytes=4 * 1024 * 1024)
    server = ServerProcess("uvicorn", server_logs)
    try:
        serve_current_catalog(server)
        client = RawClient(key_url(server, catalog), rcvbuf=4096)
        try:
            time.sleep(0.3)
            before = rss_kib(server.process.pid)
            client.send_text(f"!flood 40 {4 * 1024 * 1024}")
            last, stable_since = -1, time.monotonic()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and time.monotonic() - stable_since < 1.0:
                if backend.flood_sent != last:
                    last, stable_since = backend.flood_sent, time.monotonic()
                time.sleep(0.05)
            grown_mib = (rss_kib(server.process.pid) - before) / 1024
        finally:
            client.close()
    finally:
        server.stop()
    assert last < 40  # the backend is blocked: the gateway stopped reading it
    assert grown_mib < 32, f"the gateway grew by {grown_mib:.1f} MiB for one connection"
