"""Sending requests over httpx, sync and async: auth, retries on 429/503, errors, pagination."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import httpx

from portico_client.errors import PorticoError
from portico_client.model import Model
from portico_client.request import NO_BODY, Call, Request
from portico_client.retry import RetryPolicy

T = TypeVar("T")
M = TypeVar("M", bound=Model)
USER_AGENT = "portico-client/0.1"


def client_options(base_url: str, token: str, timeout: float) -> dict[str, Any]:
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http(s):// URL, not {base_url!r}")
    return {
        "base_url": base_url.rstrip("/"),
        "headers": {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        },
        "timeout": timeout,
        "trust_env": False,  # a proxy from the environment must not see the token
    }


def _send_args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = {"headers": request.headers}
    if request.params:  # an empty `params` would drop the query of a `next` page link
        args["params"] = request.params
    if request.body is not NO_BODY:
        args["json"] = request.body
    return args


def _read(response: httpx.Response) -> tuple[Any, str | None]:
    """(JSON body or None, ETag) of a success; PorticoError for an error answer."""
    if response.status_code >= 400:
        raise PorticoError.from_answer(response.status_code, response.content)
    data = response.json() if response.content else None
    return data, response.headers.get("ETag")


def _next_page(data: Any) -> str | None:
    link = data.get("next") if isinstance(data, dict) else None
    return link if isinstance(link, str) and link else None


class SyncTransport:
    def __init__(
        self, base_url: str, token: str, *, timeout: float, retry: RetryPolicy, http: Any = None
    ) -> None:
        options = client_options(base_url, token, timeout)
        self.base_url: str = options["base_url"]
        self.retry = retry
        self.http: httpx.Client = http or httpx.Client(**options)

    def send(self, request: Request) -> httpx.Response:
        waited = 0.0
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = self.http.request(request.method, request.url, **_send_args(request))
            except httpx.TransportError as exc:
                raise PorticoError.unreachable(self.base_url, exc) from None
            delay = self.retry.wait_before_retry(
                response.status_code, response.headers.get("Retry-After"), attempt, waited
            )
            if delay is None:
                return response
            time.sleep(delay)
            waited += delay
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def call(self, call: Call[T]) -> T:
        return call.read(*_read(self.send(call.request)))

    def pages(self, request: Request, model: type[M]) -> Iterator[M]:
        """Every item of every page, fetching the next page only when it is reached."""
        next_request: Request | None = request
        while next_request is not None:
            data, _ = _read(self.send(next_request))
            for item in data.get("results", []):
                yield model.from_json(item)
            link = _next_page(data)
            next_request = Request("GET", link) if link else None

    def close(self) -> None:
        self.http.close()


class AsyncTransport:
    def __init__(
        self, base_url: str, token: str, *, timeout: float, retry: RetryPolicy, http: Any = None
    ) -> None:
        options = client_options(base_url, token, timeout)
        self.base_url: str = options["base_url"]
        self.retry = retry
        self.http: httpx.AsyncClient = http or httpx.AsyncClient(**options)

    async def send(self, request: Request) -> httpx.Response:
        waited = 0.0
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = await self.http.request(
                    request.method, request.url, **_send_args(request)
                )
            except httpx.TransportError as exc:
                raise PorticoError.unreachable(self.base_url, exc) from None
            delay = self.retry.wait_before_retry(
                response.status_code, response.headers.get("Retry-After"), attempt, waited
            )
            if delay is None:
                return response
            await asyncio.sleep(delay)
            waited += delay
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    async def call(self, call: Call[T]) -> T:
        return call.read(*_read(await self.send(call.request)))

    async def pages(self, request: Request, model: type[M]) -> AsyncIterator[M]:
        next_request: Request | None = request
        while next_request is not None:
            data, _ = _read(await self.send(next_request))
            for item in data.get("results", []):
                yield model.from_json(item)
            link = _next_page(data)
            next_request = Request("GET", link) if link else None

    async def aclose(self) -> None:
        await self.http.aclose()
