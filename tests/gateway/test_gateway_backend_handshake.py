"""The backend's 101 is checked as websockets' client checked it: a wrong Sec-WebSocket-Accept,
an extension, a subprotocol that was not offered or a bad Upgrade is a 502; a good answer relays.

The backend here is a raw socket that answers the handshake with exactly the bytes a test gives.
"""

import base64
import hashlib
import socket
import threading

import pytest

from apis import services
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class ScriptedBackend:
    """Answers each handshake with `answer(key, request)`, then echoes nothing and holds on."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.requests.append(data)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in data.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            conn.sendall(self.answer(key, data))

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def accept_of(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())  # noqa: S324 (RFC 6455)


def response(*lines: bytes) -> bytes:
    return b"\r\n".join([b"HTTP/1.1 101 Switching Protocols", *lines]) + b"\r\n\r\n"


GOOD = (b"Upgrade: websocket", b"Connection: Upgrade")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda key: response(*GOOD, b"Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU="),
            "invalid Sec-WebSocket-Accept",
        ),
        (lambda key: response(*GOOD), "missing Sec-WebSocket-Accept"),
        (
            lambda key: response(
                *GOOD,
                b"Sec-WebSocket-Accept: " + accept_of(key),
                b"Sec-WebSocket-Extensions: permessage-deflate",
            ),
            "no extensions supported",
        ),
        (
            lambda key: response(
                *GOOD, b"Sec-WebSocket-Accept: " + accept_of(key), b"Sec-WebSocket-Protocol: chat"
            ),
            "no subprotocols supported",
        ),
        (
            lambda key: response(
                b"Upgrade: h2c", b"Connection: Upgrade", b"Sec-WebSocket-Accept: " + accept_of(key)
            ),
            "invalid Upgrade header",
        ),
        (lambda key: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "instead of 101"),
        (lambda key: b"SSH-2.0-OpenSSH\r\n\r\n", "valid HTTP response"),
    ],
)
def test_a_bad_backend_answer_is_a_502_naming_what_was_wrong(
    gateway, catalog, backend, answer, words
):
    scripted = ScriptedBackend(lambda key, request: answer(key))
    try:
        services.update_api(api=catalog.api, backend_url=f"ws://127.0.0.1:{scripted.port}/")
        serve_current_catalog(gateway)
        result = run(refused(f"{gateway.ws_url}/echo?subscription-key={catalog.key}"))
    finally:
        scripted.close()
    assert result.status == 502, result
    reasons = [line for line in gateway.output().splitlines() if "status=502" in line]
    assert words in reasons[-1], reasons[-1]


def test_a_good_answer_with_the_offered_subprotocol_is_accepted_with_it(gateway, catalog, backend):
    def answer(key, request):
        return response(
            *GOOD, b"Sec-WebSocket-Accept: " + accept_of(key), b"Sec-WebSocket-Protocol: chat"
        )

    scripted = ScriptedBackend(answer)
    try:
        services.update_api(api=catalog.api, backend_url=f"ws://127.0.0.1:{scripted.port}/x?a=1")
        serve_current_catalog(gateway)

        async def scenario():
            url = f"{gateway.ws_url}/echo/more?subscription-key={catalog.key}&b=2"
            async with ws_connect(url, subprotocols=["other", "chat"]) as ws:
                return ws.subprotocol

        assert run(scenario()) == "chat"
        request = scripted.requests[-1].decode("latin-1")
    finally:
        scripted.close()
    head, *lines = request.split("\r\n")
    assert head == "GET /x/more?a=1&b=2 HTTP/1.1"
    names = [line.split(":")[0].lower() for line in lines if line]
    assert names[:6] == [
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
    ]
    assert "Sec-WebSocket-Protocol: other, chat" in lines
    assert catalog.key not in request
