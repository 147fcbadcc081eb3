"""A logging filter that keeps secrets out of log lines: query strings and key-like values."""

import logging
import re

# Any "?query" inside a path-like token: query strings can carry subscription keys and tokens.
_QUERY = re.compile(r"(/[^\s\"'?]*)\?[^\s\"']*")
_SECRET_PAIR = re.compile(
    r"(?i)\b(subscription-key|ocp-apim-subscription-key|access_token|token|key|password)"
    r"(\s*[=:]\s*)[^\s&\"',;]+"
)
# Uvicorn's WebSocket protocols log this after every *successful* denial response (they never mark
# the handshake complete on that path); the response was sent, so the line is only noise.
_UVICORN_DENIAL_NOISE = "ASGI callable returned without completing handshake."


def scrub(text: str) -> str:
    text = _QUERY.sub(r"\1?[redacted]", text)
    return _SECRET_PAIR.sub(r"\1\2[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message == _UVICORN_DENIAL_NOISE:
            return False
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
