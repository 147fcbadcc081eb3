"""Field validators for the catalog: backend URLs, URL suffixes, header, query and policy names;
and how a form shows a refused backend URL back."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from gateway.catalog.backend_url import backend_url_problem, describe_char
from gateway.catalog.broker_credentials import (
    CredentialsProblem,
    read_credentials,
    split_userinfo,
    without_literal_secret,
)
from gateway.catalog.eventsource import backend_kind  # noqa: F401 - the models read it here

# First path segments that belong to Portico itself and can never be an API URL suffix.
RESERVED_SUFFIX_PREFIXES = frozenset(
    {"_portico", "admin", "api", "static", "media", "metrics", "accounts", "publisher", "health"}
)
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SEGMENT_CHAR = re.compile(r"[A-Za-z0-9._~-]")
# Query parameter names are limited to URL "unreserved" characters (no percent-encoding).
_QUERY_CHAR = re.compile(r"[A-Za-z0-9._~-]")


def first_bad_char(value: str, allowed: re.Pattern) -> str | None:
    return next((c for c in value if not allowed.fullmatch(c)), None)


def validate_backend_url(value: str) -> None:
    """A backend URL of any kind: the scheme picks the check (WebSocket or event broker)."""
    if urlsplit(value).scheme.lower() in EVENT_SOURCE_SCHEMES:
        validate_broker_url(value)
    else:
        validate_websocket_url(value)


def validate_websocket_url(value: str) -> None:
    """An API's backend URL (gateway/catalog/backend_url.py says what one may be). No user
    info: it would be stored in the clear, and named values are not filled in here."""
    if "{{" in value:
        raise ValidationError(
            "Named values ({{name}}) are not filled in here: send connections to such a URL "
            "with a set-backend-service policy, whose base-url may use them.",
            code="named_value",
        )
    problem = backend_url_problem(value)
    if problem is not None:
        raise ValidationError(problem.message, code=problem.code)


# Event brokers an API's backend may be (see gateway.catalog.eventsource), by URL scheme.
EVENT_SOURCE_SCHEMES = ("redis", "rediss", "nats", "mqtt", "mqtts")


def validate_broker_url(value: str) -> None:
    """redis://host[:port][/db], nats://host[:port], mqtt(s)://host[:port]: no path, query or
    fragment; user info only as a user name and a secret named value for the password (or the
    NATS token), gateway/catalog/broker_credentials.py. Whether that named value exists and is
    secret is checked with the API (`check_broker_credentials`)."""
    try:
        read_credentials(value)
    except CredentialsProblem as problem:
        raise ValidationError(str(problem), code="credentials") from None
    address, _userinfo = split_userinfo(value)
    parts = urlsplit(address)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ValidationError("The broker URL needs a host name.", code="host")
    # The host and port under the WebSocket URL's rules (gateway/catalog/backend_url.py).
    problem = backend_url_problem(f"ws://{parts.netloc}")
    if problem is not None and problem.code in ("host", "port"):
        message = problem.message.replace("WebSocket URL", "broker URL")
        raise ValidationError(message, code=problem.code)
    if parts.query or parts.fragment:
        raise ValidationError("The broker URL takes no ?query or #fragment.", code="path")
    path = parts.path.strip("/")
    if scheme in ("redis", "rediss"):
        if path and not (path.isdigit() and int(path) < 16):
            raise ValidationError(
                "A Redis URL's path is a database number, /0 to /15.", code="path"
            )
    elif path:
        raise ValidationError(f"A {scheme}:// URL has no path.", code="path")


def check_broker_credentials(backend_url: str, secrets: dict[str, bool]) -> None:
    """The named values a broker URL refers to against the catalog's (`secrets`: name -> is
    secret): each must exist and be secret, or the field says which and why."""
    try:
        names = read_credentials(backend_url or "").names
    except CredentialsProblem:
        return  # the field's own validator said why
    for name in names:
        if name not in secrets:
            raise ValidationError(
                {
                    "backend_url": f"There is no named value {{{{{name}}}}}: add it as a secret "
                    "named value first."
                }
            )
        if not secrets[name]:
            raise ValidationError(
                {
                    "backend_url": f"The named value {{{{{name}}}}} is not secret, so its value "
                    "is shown on pages and in answers: use a secret named value for a password."
                }
            )


def check_event_source(backend_url: str, source) -> None:
    """The `source` object against the backend's kind: required for an event broker, empty for
    a WebSocket backend; a `subscribe` expression must compile (gateway.policies)."""
    from gateway.catalog.eventsource import SourceError, is_expression, read_source
    from gateway.policies.conditions import parse_text_expression
    from gateway.policies.errors import PolicyError

    try:
        spec = read_source(backend_kind(backend_url or ""), source)
    except SourceError as error:
        raise ValidationError({"source": f"{error.field}: {error.message}"}) from None
    if spec is not None and is_expression(spec.subscribe):
        try:
            parse_text_expression(spec.subscribe)
        except PolicyError as error:
            raise ValidationError({"source": f"source.subscribe: {error}"}) from None


def validate_url_suffix(value: str) -> None:
    if not value:
        raise ValidationError("The API URL suffix cannot be empty.", code="empty")
    segments = value.split("/")
    if segments[0].lower() in RESERVED_SUFFIX_PREFIXES:
        raise ValidationError(
            f"'{segments[0]}' is reserved by Portico; choose another suffix.", code="reserved"
        )
    bad = first_bad_char(value.replace("/", ""), _SEGMENT_CHAR)
    if bad is not None:
        raise ValidationError(
            f"The suffix cannot contain {describe_char(bad)}: use letters, digits, '.', '_', "
            "'~' or '-', with '/' between path segments.",
            code="character",
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


def validate_query_param_name(value: str) -> None:
    bad = first_bad_char(value, _QUERY_CHAR)
    if not value or bad is not None:
        what = f"cannot contain {describe_char(bad)}" if bad else "cannot be empty"
        raise ValidationError(
            f"A query parameter name {what}: use letters, digits, '.', '_', '~' or '-'.",
            code="query_name",
        )


def validate_named_value_name(value: str) -> None:
    """Azure's rule: letters, digits, '.', '-' and '_', 1 to 256 characters."""
    from gateway.policies.namedvalues import is_valid_name

    if not is_valid_name(value):
        raise ValidationError(
            "Use only letters, digits, '.', '-' and '_' (1 to 256 characters).", code="invalid"
        )


def validate_fragment_id(value: str) -> None:
    from gateway.policies.fragments import ID_PATTERN

    if not ID_PATTERN.fullmatch(value):
        raise ValidationError(
            "Use only letters, digits, '.', '-' and '_' (1 to 80 characters).", code="invalid"
        )


def hide_refused_broker_secret(form) -> None:
    """A refused backend URL is shown back with its literal broker password as `{{name}}`."""
    if "backend_url" not in form.errors:
        return
    typed = form.data.get("backend_url", "")
    shown = without_literal_secret(typed)
    if shown != typed:
        form.data = form.data.copy()
        form.data["backend_url"] = shown
