"""The backend leg's opening handshake as bytes: the request built, the 101 response checked.

websockets' ClientProtocol builds a Headers object and a Request per connection, parses the
response through ~30 regex matches and costs a logger lookup and a uuid4 per connection; the
gateway offers no extension and at most the client's subprotocols, so a strict small parser
suffices: status 101, Upgrade websocket, Connection upgrade, the right Sec-WebSocket-Accept,
no extension, at most one offered subprotocol.
"""

import base64
import hashlib
import logging
import os
from functools import lru_cache

from websockets.headers import build_authorization_basic, build_host
from websockets.uri import WebSocketURI, parse_uri

# websockets' client logger: at DEBUG the handshake is printed line by line, as websockets did
# (`> Name: value` / `< name: value`; gateway.logredact redacts credential headers).
log = logging.getLogger("websockets.client")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# websockets reads at most 128 header lines of 8 KiB; a 101 response is a few hundred bytes.
MAX_RESPONSE_HEAD = 16 * 1024
MAX_HEADERS = 128


class BackendStatus(Exception):
    """The backend answered with a status other than 101."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class BackendHandshakeError(Exception):
    """The backend's 101 response is malformed or does not match what was asked."""


@lru_cache(maxsize=1024)
def target(url: str) -> tuple[WebSocketURI, str]:
    """The parsed URL and the request's first lines (request line, Host, Authorization).

    Key-only connections to one API path share the URL (the key is stripped from the query),
    so this is parsed once per URL, not per connection.
    """
    uri = parse_uri(url)
    host = build_host(uri.host, uri.port, uri.secure)
    head = f"GET {uri.resource_name} HTTP/1.1\r\nHost: {host}\r\n"
    if uri.user_info:
        head += f"Authorization: {build_authorization_basic(*uri.user_info)}\r\n"
    return uri, head


def new_key() -> tuple[str, bytes]:
    """A Sec-WebSocket-Key and the Sec-WebSocket-Accept the backend must answer with."""
    key = base64.b64encode(os.urandom(16))
    digest = hashlib.sha1(key + _GUID).digest()  # noqa: S324 (RFC 6455 asks for SHA-1)
    return key.decode(), base64.b64encode(digest)


def build_request(
    head: str,
    key: str,
    *,
    origin: str | None,
    subprotocols: list[str],
    headers: list[tuple[str, str]],
    user_agent: str | None,
) -> bytes:
    """The same request websockets' client sends (same header order), with the forwarded
    headers after the WebSocket ones and the client's User-Agent (if any) last."""
    parts = [head]
    if origin is not None:
        parts.append(f"Origin: {origin}\r\n")
    parts.append(
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
    )
    if subprotocols:
        parts.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}\r\n")
    for name, value in headers:
        parts.append(f"{name}: {value}\r\n")
    if user_agent:
        parts.append(f"User-Agent: {user_agent}\r\n")
    parts.append("\r\n")
    # ISO-8859-1 as websockets sends header values (the path is ASCII: parse_uri quotes it).
    return "".join(parts).encode("latin-1")


def log_head(direction: str, head: bytes) -> None:
    """Print a request or response head at DEBUG (direction ">" sent, "<" received)."""
    if log.isEnabledFor(logging.DEBUG):
        for line in head.decode("latin-1").split("\r\n"):
            if line:
                log.debug("%s %s", direction, line)


def check_response(head: bytes, accept: bytes, subprotocols: list[str]) -> str | None:
    """Check the response head (up to, not including, the blank line); the subprotocol chosen.

    Raises BackendStatus for a status other than 101, BackendHandshakeError otherwise.
    """
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if version != b"HTTP/1.1" or len(code) != 3 or not code.isdigit() or rest[3:4] not in b" ":
        raise BackendHandshakeError("did not receive a valid HTTP response")
    if code != b"101":
        raise BackendStatus(int(code))
    if len(lines) - 1 > MAX_HEADERS:
        raise BackendHandshakeError("too many HTTP headers")
    upgrade = connection = accepted = chosen = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name or b"\t" in name:
            raise BackendHandshakeError("did not receive a valid HTTP response")
        name = name.lower()
        value = value.strip(b" \t")
        if name == b"upgrade":
            upgrade = value if upgrade is None else upgrade + b"," + value
        elif name == b"connection":
            connection = value if connection is None else connection + b"," + value
        elif name == b"sec-websocket-accept":
            if accepted is not None:
                raise BackendHandshakeError("invalid Sec-WebSocket-Accept header: multiple values")
            accepted = value
        elif name == b"sec-websocket-extensions":
            raise BackendHandshakeError("no extensions supported")
        elif name == b"sec-websocket-protocol":
            if chosen is not None:
                raise BackendHandshakeError(
                    "invalid Sec-WebSocket-Protocol header: multiple values"
                )
            chosen = value
    if connection is None or b"upgrade" not in _tokens(connection):
        raise BackendHandshakeError(f"invalid Connection header: {_text(connection)}")
    if upgrade is None or _tokens(upgrade) != [b"websocket"]:
        raise BackendHandshakeError(f"invalid Upgrade header: {_text(upgrade)}")
    if accepted is None:
        raise BackendHandshakeError("missing Sec-WebSocket-Accept header")
    if accepted != accept:
        raise BackendHandshakeError(f"invalid Sec-WebSocket-Accept header: {_text(accepted)}")
    if chosen is None:
        return None
    if not subprotocols:
        raise BackendHandshakeError("no subprotocols supported")
    subprotocol = chosen.decode("latin-1")
    if "," in subprotocol:
        raise BackendHandshakeError(f"invalid Sec-WebSocket-Protocol header: {subprotocol}")
    if subprotocol not in subprotocols:
        raise BackendHandshakeError(f"unsupported subprotocol: {subprotocol}")
    return subprotocol


def _tokens(value: bytes) -> list[bytes]:
    return [t.strip(b" \t").lower() for t in value.split(b",") if t.strip(b" \t")]


def _text(value: bytes | None) -> str:
    return "(missing)" if value is None else value.decode("latin-1")[:100]
