"""PorticoClient: the synchronous client, its resources as attributes, and connect()."""

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from portico_client import sync_resources as r
from portico_client.connect import gateway_ws_url, require_websockets, websocket_options
from portico_client.retry import RetryPolicy
from portico_client.transport import SyncTransport

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection


class PorticoClient:
    """`PorticoClient("https://portico.example", token="pat_…")`; close it, or use `with`.

    `retry` bounds the retries of 429/503 answers (attempts and total wait); `http` lets a caller
    pass its own configured `httpx.Client` (its base URL and headers are then the caller's).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._transport = SyncTransport(
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

    @contextmanager
    def connect(
        self,
        api: str,
        *,
        subscription: int,
        gateway: str = "",
        gateway_url: str | None = None,
        origin: str = "",
        **options: Any,
    ) -> Iterator["ClientConnection"]:
        """Mint a connect ticket for `subscription` and open a WebSocket to `api` with it.

        The ticket's URL names the host the management API was reached on; `gateway_url`
        (`ws://host:port`) connects to another host, such as a separate gateway node. Other
        keyword arguments go to `websockets.sync.client.connect`.
        """
        require_websockets()
        from websockets.sync.client import connect

        ticket = self.subscriptions.create_connect_ticket(
            subscription, api, gateway=gateway, origin=origin
        )
        url = gateway_ws_url(ticket.url, gateway_url)
        with connect(url, **websocket_options(origin, options)) as websocket:
            yield websocket

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
