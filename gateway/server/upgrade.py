"""The WebSocket upgrade request as httptools parsed it: checked for the gateway's own answer
(`plain_upgrade`), or turned into the Request websockets' parser would build (`parsed_request`)."""

import base64
import binascii
import hashlib
import re

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake
from websockets.headers import parse_subprotocol
from websockets.http11 import Request

# websockets' parser limits (a line of 8 KiB, 128 headers), with room: nearer them, websockets
# parses the request itself and answers 414/431 as before.
_MAX_LINE = 8000
_MAX_HEADERS = 120


# RFC 9110 tokens separated by commas: a Connection header websockets' parser accepts as is.
_TOKEN_LIST = re.compile(
    rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*"
)
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def plain_upgrade(scope: dict, url: bytes) -> tuple[bytes, list[str]] | None:
    """(Sec-WebSocket-Accept, the scope's subprotocols) for an upgrade request that websockets'
    `ServerProtocol.accept` would accept as it is (one Connection with the upgrade token, one
    Upgrade: websocket, a 16-byte key, version 13, at most one Origin, well-formed
    subprotocols), or None: anything else (errors included) takes websockets' own path."""
    raw = scope["headers"]
    if (
        scope.get("method") != "GET"
        or scope.get("http_version") != "1.1"
        or len(url) > _MAX_LINE
        or len(raw) > _MAX_HEADERS
        or not url.startswith(b"/")
        or not url.isascii()
        or b"#" in url
    ):
        return None
    connection = upgrade = key = version = None
    origins = 0
    offered = []
    for name, value in raw:
        if len(name) + len(value) > _MAX_LINE:
            return None
        if name[:1] not in b"cosu":  # none of the names below: most headers stop here
            continue
        if name == b"connection":
            if connection is not None:
                return None
            connection = value
        elif name == b"upgrade":
            if upgrade is not None:
                return None
            upgrade = value
        elif name == b"sec-websocket-key":
            if key is not None:
                return None
            key = value
        elif name == b"sec-websocket-version":
            if version is not None:
                return None
            version = value
        elif name == b"origin":
            origins += 1
        elif name == b"sec-websocket-protocol":
            offered.append(value)
        elif name in (b"transfer-encoding", b"content-length"):
            return None
    if (
        origins > 1
        or version != b"13"
        or key is None
        or upgrade is None
        or upgrade.lower() != b"websocket"
        or connection is None
        or not _TOKEN_LIST.fullmatch(connection)
        or b"upgrade" not in [t.strip(b" \t") for t in connection.lower().split(b",")]
        or len(key) != 24
    ):
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except binascii.Error:
        return None
    subprotocols: list[str] = []
    for value in offered:
        text = value.decode("latin-1")
        try:
            parse_subprotocol(text)  # websockets answers 400 to a malformed one
        except InvalidHandshake:
            return None
        subprotocols.extend([token.strip() for token in text.split(",")])  # as uvicorn does
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())  # noqa: S324 (RFC 6455)
    return accept, subprotocols


def parsed_request(scope: dict, url: bytes) -> Request | None:
    """The Request websockets' parser would build from what httptools parsed, or None where
    only websockets' own parsing gives the same answer (limits, a body, non-ASCII)."""
    raw = scope["headers"]
    if (
        len(url) > _MAX_LINE
        or len(raw) > _MAX_HEADERS
        or scope.get("http_version") != "1.1"
        or not url.isascii()
    ):
        return None
    pairs = []
    for name, value in raw:
        if len(name) + len(value) > _MAX_LINE or name in (b"transfer-encoding", b"content-length"):
            return None
        pairs.append((name.decode("ascii"), value.decode("iso-8859-1")))
    return Request(url.decode("ascii"), Headers(pairs), method=scope["method"])
