"""AsyncPorticoClient: the asyncio client, the same resources as coroutines, and connect()."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from portico_client import async_resources as r
from portico_client.connect import gateway_ws_url, require_websockets, websocket_options
from portico_client.retry import RetryPolicy
from portico_client.transport import AsyncTransport

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection


class AsyncPorticoClient:
    """`async with AsyncPorticoClient(url, token) as client: await client.apis.get("chat")`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._transport = AsyncTransport(
            base_url, token, timeout=timeout, retry=retry or RetryPolicy(), http=http
        )
        self.base_url = self._transport.base_url
        self.apis = r.Apis(self._transport)
        self.products = r.Products(self._transport)
        self.gateways = r.Gateways(self._transport)
        self.subscriptions = r.Subscriptions(self._transport)
        self.connections = r.Connections(self._transport)
        self.named_values = r.NamedValues(self._transport)
        self.certificates = r.Certificates(self._transport)
        self.policy_fragments = r.PolicyFragments(self._transport)
        self.users = r.Users(self._transport)
        self.policies = r.Policies(self._transport)
        self.catalog = r.Catalog(self._transport)

    @asynccontextmanager
    async def connect(
        self,
        api: str,
        *,
        subscription: int,
        gateway: str = "",
        gateway_url: str | None = None,
        origin: str = "",
        **options: Any,
    ) -> AsyncIterator["ClientConnection"]:
        """Mint a connect ticket for `subscription` and open a WebSocket to `api` with it.

        `async with client.connect("chat", subscription=7) as ws: await ws.send("hi")`; see
        PorticoClient.connect for `gateway_url`; other keyword arguments go to
        `websockets.asyncio.client.connect`.
        """
        require_websockets()
        from websockets.asyncio.client import connect

        ticket = await self.subscriptions.create_connect_ticket(
            subscription, api, gateway=gateway, origin=origin
        )
        url = gateway_ws_url(ticket.url, gateway_url)
        async with connect(url, **websocket_options(origin, options)) as websocket:
            yield websocket

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
