"""A logging filter that keeps secrets and message payloads out of log lines (query strings,
credential headers, the policies' secret named values, frame payloads) and keeps each record on
one line (line breaks are escaped).

It runs on every record at every level: at DEBUG, uvicorn's WebSocket protocol and the
`websockets` client (the backend leg) print each handshake header as `< name: value` /
`> Name: value`, so credential-bearing headers are redacted by name wherever they appear, and
every frame as `< TEXT 'payload' [n bytes]`, which is cut down to its kind and size.
"""

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from websockets.frames import Frame, Opcode
from websockets.uri import DELIMS

# Any "?query" inside a path-like token: query strings can carry subscription keys and tokens.
_QUERY = re.compile(r"(/[^\s\"'?]*)\?[^\s\"']*")
_SECRET_PAIR = re.compile(
    r"(?i)\b(subscription-key|ocp-apim-subscription-key|access_token|token|key|password)"
    r"(\s*[=:]\s*)[^\s&\"',;]+"
)
# Header names that carry credentials: exact names, and any name containing one of these words.
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
_SECRET_WORDS = ("key", "token", "secret", "auth", "password", "passwd", "cookie", "session",
                 "credential", "signature", "jwt", "csrf", "xsrf")  # fmt: skip
# Header names that are secret only because an API says so (its subscription key header).
_configured: frozenset[str] = frozenset()
# The clear values of the policies' secret named values, as one pattern (None: there are none).
_values: re.Pattern | None = None
# Shorter values are left alone: a value of a few characters occurs in ordinary text by chance,
# and redacting every "abc" would garble log lines (and hint at the value) without hiding it.
MIN_SECRET_VALUE = 4

# `< name: value` / `> Name: value` (websockets' and uvicorn's DEBUG lines), or a bare
# `Name: value` line inside a longer message (a dumped request or response).
_HEADER_LINE = re.compile(
    r"(?m)^(?P<lead>[ \t]*(?:[<>][ \t]+)?)(?P<name>[!#$%&'*+.^_`|~0-9A-Za-z-]+)"
    r"(?P<sep>:[ \t]*)(?P<value>[^\r\n]*)$"
)
# Headers printed as Python pairs: ('authorization', 'Bearer …') or (b'cookie', b'…').
_HEADER_PAIR = re.compile(r"""\((?P<q1>b?['"])(?P<name>[^'"]+)['"],\s*(?P<q2>b?['"])[^'"]*['"]\)""")
# Credentials in a scheme anywhere in free text: "Bearer eyJ…", "Basic dXNlcjpw…".
_SCHEME = re.compile(r"(?i)\b(Bearer|Basic|Digest|Negotiate)\s+[A-Za-z0-9\-._~+/=]{4,}")
# Uvicorn's WebSocket protocols log this after every *successful* denial response (they never mark
# the handshake complete on that path); the response was sent, so the line is only noise.
_UVICORN_DENIAL_NOISE = "ASGI callable returned without completing handshake."
REDACTED = "[redacted]"


def remember_secret_headers(names: Iterable[str]) -> None:
    """Treat these header names (the APIs' configured key headers) as secret from now on."""
    global _configured
    _configured = frozenset(n.strip().lower() for n in names if n and n.strip())


def remember_secret_values(values: Iterable[str]) -> None:
    """Redact these clear values (secret named values used by policies) wherever they appear:
    a backend URL's path, an error quoting that URL, any header, not only the ones known."""
    global _values
    forms = {form for v in values if len(v) >= MIN_SECRET_VALUE for form in url_forms(v)}
    # Longest first, so that a value containing another is redacted whole.
    kept = sorted(forms, key=len, reverse=True)
    _values = re.compile("|".join(map(re.escape, kept))) if kept else None


def url_forms(value: str) -> set[str]:
    """`value` as written, and as it reads once placed in a backend URL: percent-encoded by
    set-query-parameter (`quote`, nothing safe) or a form encoder (`quote_plus`), and quoted
    again by websockets where the URL holds non-ASCII characters (an IRI: `quote` keeping the
    delimiters, which encodes the "%" of an earlier encoding too)."""
    once = {value, quote(value, safe=""), quote_plus(value), quote(value, safe=DELIMS)}
    return once | {quote(form, safe=DELIMS) for form in once}


def is_secret_header(name: str) -> bool:
    name = name.lower()
    return (
        name in _SECRET_HEADERS
        or name in _configured
        or any(word in name for word in _SECRET_WORDS)
    )


def _header_line(match: re.Match) -> str:
    if not is_secret_header(match["name"]):
        return match[0]
    return f"{match['lead']}{match['name']}{match['sep']}{REDACTED}"


def _header_pair(match: re.Match) -> str:
    if not is_secret_header(match["name"]):
        return match[0]
    q1, q2 = match["q1"], match["q2"]
    return f"({q1}{match['name']}{q1[-1]}, {q2}{REDACTED}{q2[-1]})"


def scrub(text: str) -> str:
    if _values is not None:
        text = _values.sub(REDACTED, text)
    text = _QUERY.sub(r"\1?[redacted]", text)
    if ":" in text:
        text = _HEADER_LINE.sub(_header_line, text)
    if "(" in text:
        text = _HEADER_PAIR.sub(_header_pair, text)
    text = _SCHEME.sub(rf"\1 {REDACTED}", text)
    return _SECRET_PAIR.sub(r"\1\2[redacted]", text)


# Whatever would start a new line for a log reader (str.splitlines' boundaries).
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def escape_line_breaks(text: str) -> str:
    """One record, one line: a client's string with CR/LF in it cannot forge a log line."""
    if not _LINE_BREAKS.search(text):
        return text
    return _LINE_BREAKS.sub(lambda m: repr(m[0])[1:-1], text)


def frame_summary(frame: Frame) -> str:
    """A frame as websockets prints it at DEBUG, without its payload: kind, close code, size."""
    code = ""
    if frame.opcode is Opcode.CLOSE and len(frame.data) >= 2:
        code = f" {int.from_bytes(frame.data[:2], 'big')}"  # the reason is the peer's text
    size = len(frame.data)
    continued = "" if frame.fin else ", continued"
    return f"{frame.opcode.name}{code} [{size} byte{'' if size == 1 else 's'}{continued}]"


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if type(args) is tuple and args and isinstance(args[-1], Frame):
            # websockets' "< %s" / "> %s" frame lines: the payload never reaches the message.
            record.args = (*args[:-1], frame_summary(args[-1]))
        message = record.getMessage()
        if message == _UVICORN_DENIAL_NOISE:
            return False
        cleaned = escape_line_breaks(scrub(message))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: a traceback's repr of headers is scrubbed here once.
            record.exc_text = scrub(_TRACEBACKS.formatException(record.exc_info))
        return True


_TRACEBACKS = logging.Formatter()
