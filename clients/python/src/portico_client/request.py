"""One request, built from the operations table: its path filled in, its query checked."""

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from portico_client.model import Model
from portico_client.operations import OPERATIONS

T = TypeVar("T")
M = TypeVar("M", bound=Model)
QueryValue = str | int | bool | None
NO_BODY = object()  # a request without a JSON body (None would send `null`)


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # a path under the base URL, or an absolute `next` page link
    params: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and how to read its answer's JSON (and ETag) into the method's return type."""

    request: Request
    read: Callable[[Any, str | None], T]


def build(
    operation_id: str,
    *,
    path: Mapping[str, str | int] | None = None,
    query: Mapping[str, QueryValue] | None = None,
    body: Any = NO_BODY,
    if_match: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request for one operation; a query parameter the table does not list is refused."""
    operation = OPERATIONS[operation_id]
    values = {k: urllib.parse.quote(str(v), safe="") for k, v in (path or {}).items()}
    unknown = sorted(set(query or {}) - set(operation.query))
    if unknown:
        raise TypeError(f"{operation.sdk}() takes no filter {', '.join(unknown)}")
    params = {k: _query_text(v) for k, v in (query or {}).items() if v is not None and v != ""}
    extra = dict(headers or {})
    if if_match:
        extra["If-Match"] = if_match
    return Request(operation.method, operation.path.format(**values), params, body, extra)


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def one(model: type[M]) -> Callable[[Any, str | None], M]:
    """Read the answer as one `model`."""
    return lambda data, etag: model.from_json(data or {}, etag)


def many(model: type[M]) -> Callable[[Any, str | None], list[M]]:
    """Read the answer (a JSON array) as a list of `model`."""
    return lambda data, etag: [model.from_json(item) for item in data or []]


def document(data: Any, etag: str | None) -> dict[str, Any]:
    """Read the answer as a plain JSON document (AsyncAPI, the catalog file)."""
    return dict(data or {})


def nothing(data: Any, etag: str | None) -> None:
    return None


def fields(given: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from keyword arguments; None means "not given" and is left out."""
    return {k: v for k, v in given.items() if v is not None}
