"""Field validators for the catalog: backend WebSocket URLs, URL suffixes, header names."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

# First path segments that belong to Portico itself and can never be an API URL suffix.
RESERVED_SUFFIX_PREFIXES = frozenset(
    {"_portico", "admin", "api", "static", "media", "metrics", "accounts", "publisher", "health"}
)
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def validate_backend_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss"):
        raise ValidationError("Enter a WebSocket URL starting with ws:// or wss://.", code="scheme")
    if not parts.hostname:
        raise ValidationError("The WebSocket URL needs a host name.", code="host")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationError("The WebSocket URL has an invalid port.", code="port") from None
    if parts.fragment:
        raise ValidationError("A WebSocket URL cannot have a #fragment.", code="fragment")
    if parts.username or parts.password:
        raise ValidationError(
            "Put credentials in a set-header policy, not in the URL.", code="credentials"
        )


def validate_url_suffix(value: str) -> None:
    if not value:
        raise ValidationError("The API URL suffix cannot be empty.", code="empty")
    segments = value.split("/")
    if segments[0].lower() in RESERVED_SUFFIX_PREFIXES:
        raise ValidationError(
            f"'{segments[0]}' is reserved by Portico; choose another suffix.", code="reserved"
        )
    for segment in segments:
        if not segment or segment in (".", "..") or not _SEGMENT.match(segment):
            raise ValidationError(
                "Use path segments of letters, digits, '.', '_', '~' or '-', separated by single "
                "'/', with no leading or trailing '/'.",
                code="segment",
            )


def validate_header_name(value: str) -> None:
    if not _TOKEN.match(value):
        raise ValidationError("Enter a valid HTTP header name.", code="header")
