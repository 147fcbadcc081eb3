"""The gateway's own answer to a plain upgrade agrees with websockets' `ServerProtocol.accept`.

`plain_upgrade` reads the request httptools parsed (as uvicorn's HTTP protocol hands it over)
and either computes the 101's Sec-WebSocket-Accept and the scope's subprotocols itself, or
returns None so websockets' own path answers. Every request here is parsed by both: whatever
the fast path accepts, websockets accepts with the same key answer, and the usual clients'
requests do take the fast path.
"""

import base64
import os

import httptools
import pytest
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from gateway.server.upgrade import plain_upgrade

KEY = base64.b64encode(os.urandom(16)).decode()


class Parsed:
    """What uvicorn's httptools protocol keeps of a request head: lower-case names."""

    def __init__(self, head: bytes) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        parser = httptools.HttpRequestParser(self)
        try:
            parser.feed_data(head)
        except httptools.HttpParserUpgrade:
            pass
        self.scope = {
            "method": parser.get_method().decode("ascii"),
            "http_version": parser.get_http_version(),
            "headers": self.headers,
        }

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))


def websockets_answer(head: bytes):
    """websockets' own verdict on the same bytes: its Response to `accept`."""
    reader = StreamReader()
    reader.feed_data(head)
    parser = Request.parse(reader.read_line)
    try:
        next(parser)
    except StopIteration as done:
        request = done.value
    return ServerProtocol().accept(request)


def request(*lines: str, path: str = "/echo?subscription-key=k", method: str = "GET") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: gw\r\n" + "".join(f"{x}\r\n" for x in lines)
    ).encode("latin-1") + b"\r\n"


BASIC = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}")
VERSION = "Sec-WebSocket-Version: 13"

# The requests real clients send: each must take the fast path.
USUAL = {
    "node ws": request(
        VERSION,
        f"Sec-WebSocket-Key: {KEY}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    ),
    "browser": request(
        "Connection: keep-alive, Upgrade",
        "Origin: https://app.example",
        VERSION,
        f"Sec-WebSocket-Key: {KEY}",
        "Upgrade: websocket",
        "Sec-WebSocket-Protocol: chat, superchat",
        "Cookie: a=b",
    ),
    "python websockets": request(*BASIC, VERSION, "User-Agent: Python/3.11 websockets/17.4"),
    "case and spaces": request(
        "upgrade: WebSocket",
        "CONNECTION: upgrade ,  Keep-Alive",
        f"sec-websocket-key: {KEY}",
        VERSION,
    ),
    "subprotocols over two headers": request(
        *BASIC, VERSION, "Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: b,c"
    ),
}

# Requests the fast path leaves to websockets (which refuses most of them).
UNUSUAL = {
    "no key": request("Upgrade: websocket", "Connection: Upgrade", VERSION),
    "short key": request(
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: AAAA", VERSION
    ),
    "key not base64": request(
        "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {'!' * 22}==", VERSION
    ),
    "two keys": request(*BASIC, f"Sec-WebSocket-Key: {KEY}", VERSION),
    "version 8": request(*BASIC, "Sec-WebSocket-Version: 8"),
    "no version": request(*BASIC),
    "no upgrade token": request(
        "Upgrade: websocket", "Connection: keep-alive", f"Sec-WebSocket-Key: {KEY}", VERSION
    ),
    "upgrade to h2c": request(
        "Upgrade: h2c", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}", VERSION
    ),
    "two upgrades": request(*BASIC, "Upgrade: websocket", VERSION),
    "two origins": request(*BASIC, VERSION, "Origin: https://a", "Origin: https://b"),
    "malformed subprotocol": request(*BASIC, VERSION, "Sec-WebSocket-Protocol: a b"),
    "bad connection list": request(
        "Upgrade: websocket", "Connection: Upgrade;x", f"Sec-WebSocket-Key: {KEY}", VERSION
    ),
    "absolute form": request(*BASIC, VERSION, path="http://gw/echo"),
    "a body": request(*BASIC, VERSION, "Content-Length: 0"),
}


@pytest.mark.parametrize("name", sorted(USUAL))
def test_usual_clients_take_the_fast_path_with_websockets_answer(name):
    head = USUAL[name]
    parsed = Parsed(head)
    plain = plain_upgrade(parsed.scope, parsed.url)
    assert plain is not None, name
    accept, subprotocols = plain
    response = websockets_answer(head)
    assert response.status_code == 101
    assert accept.decode() == response.headers["Sec-WebSocket-Accept"]
    assert "Sec-WebSocket-Extensions" not in response.headers  # none offered back either way
    # uvicorn's scope: every Sec-WebSocket-Protocol value split on commas, stripped.
    offered = [v for n, v in parsed.headers if n == b"sec-websocket-protocol"]
    expected = [t.strip() for v in offered for t in v.decode().split(",")]
    assert subprotocols == expected


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_requests_are_left_to_websockets(name):
    parsed = Parsed(UNUSUAL[name])
    assert plain_upgrade(parsed.scope, parsed.url) is None
