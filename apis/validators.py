"""Field validators for the catalog: backend URLs, URL suffixes, header, query and policy names."""

import re

from django.core.exceptions import ValidationError

from gateway.catalog.backend_url import backend_url_problem, describe_char

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
