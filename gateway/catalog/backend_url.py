"""What a backend URL may be: ws/wss, a host name or IP address, a port from 1 to 65535 and a
path and query a request line can carry. One check for the catalog's backend URL (pages, REST
API, CLI, catalog apply, AsyncAPI import) and for set-backend-service's base-url.

Non-ASCII letters are accepted in the host (IDNA, as the backend leg encodes it) and in the path
and query (the backend leg percent-encodes them). Messages never quote the URL: a base-url may
hold a secret named value's value; `reason` is the message without the character it names.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

SCHEMES = ("ws", "wss")
MAX_HOST_LENGTH = 253  # DNS: a name of at most 253 characters, labels of at most 63
# A DNS label as the resolver takes it; "_" is common in internal names (compose services).
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HOST_CHAR = re.compile(r"[A-Za-z0-9._-]")
# Characters RFC 3986 allows in a path and query as they are; "%" starts an escape.
_URL_CHAR = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

SCHEME_MESSAGE = "Enter a WebSocket URL starting with ws:// or wss://."
HOST_MISSING_MESSAGE = "The WebSocket URL needs a host name."
PORT_MESSAGE = "The WebSocket URL's port must be a number from 1 to 65535."
FRAGMENT_MESSAGE = "A WebSocket URL cannot have a #fragment."
CREDENTIALS_MESSAGE = "Put credentials in a set-header policy, not in the URL."


@dataclass(frozen=True)
class BackendUrlProblem:
    """Why a URL cannot be a backend URL: a code (the part at fault), the message for the
    field, and the same without quoting any character of the URL."""

    code: str  # scheme, host, port, path, fragment or credentials
    message: str
    reason: str


def describe_char(char: str) -> str:
    """A character as a message names it: a space, a tab, '?', or its code point."""
    if char == " ":
        return "a space"
    if char == "\t":
        return "a tab"
    if char.isspace():
        return f"the space character U+{ord(char):04X}"
    if not char.isprintable():
        return f"the control character U+{ord(char):04X}"
    return f"'{char}'"


def _problem(code: str, message: str, reason: str | None = None) -> BackendUrlProblem:
    return BackendUrlProblem(code, message, reason or message)


def _host_problem(parts: SplitResult) -> BackendUrlProblem | None:
    host = parts.hostname or ""
    if "[" in parts.netloc:  # a bracketed IPv6 literal (urlsplit checked its syntax)
        return None
    general = (
        "The host name must be letters, digits, '-' and '.' (non-ASCII letters allowed), "
        "or an IP address."
    )
    bad = next((c for c in host if not (_HOST_CHAR.fullmatch(c) or c.isalnum())), None)
    if bad is not None:
        return _problem("host", f"The host name cannot contain {describe_char(bad)}.", general)
    try:
        ascii_host = host.encode("idna").decode("ascii")  # as the backend leg connects
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.removesuffix(".").split(".")
    if (
        not ascii_host
        or len(ascii_host) > MAX_HOST_LENGTH
        or not all(_LABEL.fullmatch(label) for label in labels)
    ):
        return _problem(
            "host",
            "The host name is not valid: each part between dots needs 1 to 63 letters, digits "
            "or '-', not starting or ending with '-'.",
        )
    if labels[-1].isdigit():  # all digits at the end: it can only be an IPv4 address
        try:
            ipaddress.IPv4Address(ascii_host)
        except ValueError:
            return _problem("host", "The host is not a valid IPv4 address.")
    return None


def _path_problem(raw_rest: str) -> BackendUrlProblem | None:
    """The path and query as written (non-ASCII letters allowed, percent-encoded on the way)."""
    for char in raw_rest:
        if _URL_CHAR.fullmatch(char) or (ord(char) > 127 and char.isprintable()):
            continue
        encoded = quote(char, safe="")
        return _problem(
            "path",
            f"The path and query cannot contain {describe_char(char)}: percent-encode it as "
            f"{encoded}.",
            "The path and query may hold only URL characters: percent-encode the others.",
        )
    if _ESCAPE.search(raw_rest):
        return _problem(
            "path",
            "The path and query have a '%' that does not start an escape such as %20: write "
            "a '%' itself as %25.",
        )
    return None


def _authority_end(value: str) -> int:
    """Where the host part of `scheme://host...` ends in the text as written."""
    start = value.find("://") + 3
    ends = [i for i in (value.find(c, start) for c in "/?#") if i >= 0]
    return min(ends, default=len(value))


def backend_url_problem(value: str, *, allow_credentials: bool = False) -> BackendUrlProblem | None:
    """Why `value` cannot be a backend URL, or None. `allow_credentials`: user info in the URL
    is accepted (set-backend-service fills it from a secret named value)."""
    scheme = value.partition("://")[0] if "://" in value else ""
    if scheme.lower() not in SCHEMES:
        return _problem("scheme", SCHEME_MESSAGE)
    # urlsplit drops tabs and line breaks silently: find them in the text as written first.
    end = _authority_end(value)
    for at, char in enumerate(value):
        if char.isspace() or not char.isprintable():
            if at < end:
                general = "The host name cannot contain spaces or control characters."
                return _problem(
                    "host", f"The host name cannot contain {describe_char(char)}.", general
                )
            return _path_problem(value[end:].split("#", 1)[0])
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        if "[" in value[:end]:
            return _problem("host", "The host is not a valid IPv6 address in brackets.")
        if "port" in str(exc).lower():
            return _problem("port", PORT_MESSAGE)
        return _problem("host", "The host part of the URL is not valid.")
    if not parts.hostname:
        return _problem("host", HOST_MISSING_MESSAGE)
    if port == 0:
        return _problem("port", PORT_MESSAGE)
    if "@" in parts.netloc and not allow_credentials:
        return _problem("credentials", CREDENTIALS_MESSAGE)
    if "#" in value:
        return _problem("fragment", FRAGMENT_MESSAGE)
    return _host_problem(parts) or _path_problem(value[end:])
