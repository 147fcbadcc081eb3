"""AsyncPorticoClient's resources: the same methods as PorticoClient's, as coroutines."""

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from portico_client import calls
from portico_client import models as m
from portico_client.connection_models import ApiToken, BroadcastResult, LiveConnection, SendResult
from portico_client.model import Model
from portico_client.request import QueryValue
from portico_client.transport import AsyncTransport

M = TypeVar("M", bound=Model)
PAGE_SIZE = 100


class Resource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport


class _Read(Resource, Generic[M]):
    """list() iterates over every page (fetched as it goes); get() reads one."""

    _ops: calls.Collection

    def list(self, *, page_size: int = PAGE_SIZE, **filters: QueryValue) -> AsyncIterator[M]:
        return self._t.pages(self._ops.list(page_size, filters), self._ops.model)  # type: ignore[arg-type]

    async def get(self, key: calls.Key) -> M:
        result: M = await self._t.call(self._ops.get(key))
        return result


class _Write(_Read[M]):
    """create(), replace() (PUT, every field) and update() (PATCH, the fields given)."""

    async def create(self, **fields: Any) -> M:
        result: M = await self._t.call(self._ops.create(fields))
        return result

    async def replace(self, key: calls.Key, *, if_match: str | None = None, **fields: Any) -> M:
        result: M = await self._t.call(self._ops.replace(key, fields, if_match))
        return result

    async def update(self, key: calls.Key, *, if_match: str | None = None, **fields: Any) -> M:
        result: M = await self._t.call(self._ops.update(key, fields, if_match))
        return result


class _Crud(_Write[M]):
    async def delete(self, key: calls.Key) -> None:
        await self._t.call(self._ops.delete(key))


class Apis(_Crud[m.Api]):
    _ops = calls.APIS

    async def asyncapi(self, name: str) -> dict[str, Any]:
        """The API as an AsyncAPI 3.0 document."""
        return await self._t.call(calls.asyncapi(name))

    async def effective_policy(self, name: str) -> m.EffectivePolicy:
        return await self._t.call(calls.effective_policy(name))

    async def get_policy(self, name: str) -> m.Policy:
        return await self._t.call(calls.get_policy("apis_policy_retrieve", {"name": name}))

    async def set_policy(self, name: str, xml: str, *, if_match: str | None = None) -> m.Policy:
        return await self._t.call(
            calls.set_policy("apis_policy_update", xml, if_match, {"name": name})
        )

    async def import_asyncapi(self, document: str, **options: Any) -> m.Api:
        """Create or update an API from an AsyncAPI document (YAML or JSON text)."""
        return await self._t.call(calls.import_asyncapi(document, options))

    async def create_token(self, api: str, name: str) -> ApiToken:
        """An API-scoped token (connections of this API only); `.token` is shown only now."""
        return await self._t.call(calls.create_token(api, name))

    async def list_tokens(self, api: str) -> list[ApiToken]:
        """The API's scoped tokens (never their secrets), revoked ones included."""
        return await self._t.call(calls.list_tokens(api))

    async def revoke_token(self, api: str, token_id: int) -> None:
        """The token stops working at once."""
        await self._t.call(calls.revoke_token(api, token_id))


class Products(_Write[m.Product]):
    _ops = calls.PRODUCTS

    async def delete(self, name: str, *, force: bool = False) -> None:
        """`force=True` also deletes the product's subscriptions (else 409 while it has any)."""
        await self._t.call(self._ops.delete(name, force=force or None))

    async def get_policy(self, name: str) -> m.Policy:
        return await self._t.call(calls.get_policy("products_policy_retrieve", {"name": name}))

    async def set_policy(self, name: str, xml: str, *, if_match: str | None = None) -> m.Policy:
        call = calls.set_policy("products_policy_update", xml, if_match, {"name": name})
        return await self._t.call(call)


class Gateways(_Crud[m.Gateway]):
    _ops = calls.GATEWAYS

    async def nodes(self, name: str) -> list[m.GatewayNode]:
        return await self._t.call(calls.gateway_nodes(name))

    async def regenerate_token(self, name: str, which: str = "primary") -> m.NewGatewayToken:
        return await self._t.call(calls.regenerate_token(name, which))


class Subscriptions(_Write[m.Subscription]):
    _ops = calls.SUBSCRIPTIONS

    async def approve(self, id: int, comment: str = "") -> m.Subscription:
        return await self._t.call(calls.transition("approve", id, comment))

    async def reject(self, id: int, comment: str = "") -> m.Subscription:
        return await self._t.call(calls.transition("reject", id, comment))

    async def suspend(self, id: int, comment: str = "") -> m.Subscription:
        return await self._t.call(calls.transition("suspend", id, comment))

    async def reactivate(self, id: int, comment: str = "") -> m.Subscription:
        return await self._t.call(calls.transition("reactivate", id, comment))

    async def cancel(self, id: int, comment: str = "") -> m.Subscription:
        return await self._t.call(calls.transition("cancel", id, comment))

    async def regenerate_key(self, id: int, which: str = "primary") -> m.Subscription:
        return await self._t.call(calls.regenerate_key(id, which))

    async def list_secrets(self, id: int) -> m.SubscriptionSecrets:
        """Both keys (the read is audited)."""
        return await self._t.call(calls.list_secrets(id))

    async def create_connect_ticket(
        self,
        id: int,
        api: str,
        *,
        gateway: str = "",
        origin: str = "",
        expires_in: int = 60,
        key: str | None = None,
    ) -> m.ConnectTicket:
        """A single-use ticket to connect once; `key` proves the subscription instead of a token."""
        call = calls.connect_ticket(
            id, api, gateway=gateway, origin=origin, expires_in=expires_in, key=key
        )
        return await self._t.call(call)


class Connections(_Read[LiveConnection]):
    """Open connections on every gateway node: list, read, close, send to, broadcast."""

    _ops = calls.CONNECTIONS

    def list(
        self, *, page_size: int = PAGE_SIZE, **filters: QueryValue
    ) -> AsyncIterator[LiveConnection]:
        """Filters: api, product, subscription, node, gateway, tag ("name=value")."""
        return super().list(page_size=page_size, **filters)

    async def close(self, id: str, reason: str | None = None) -> LiveConnection:
        """The client gets 1008 with the reason, the backend 1001."""
        return await self._t.call(calls.close_connection(id, reason))

    async def send(
        self, id: str, *, text: str | None = None, data: bytes | None = None
    ) -> SendResult:
        """Deliver one message to the client, as if its backend had sent it."""
        return await self._t.call(calls.send(id, text, data))

    async def broadcast(
        self,
        *,
        api: str | None = None,
        product: str | None = None,
        subscription: int | None = None,
        gateway: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        data: bytes | None = None,
    ) -> BroadcastResult:
        """Every connection matching all the selectors given gets the message."""
        selector = {
            "api": api,
            "product": product,
            "subscription": subscription,
            "gateway": gateway,
            "tag": tag,
        }
        return await self._t.call(calls.broadcast(selector, text, data))


class NamedValues(_Crud[m.NamedValue]):
    _ops = calls.NAMED_VALUES


class Certificates(_Crud[m.Certificate]):
    """Create with `pem=` (chain and key, or a CA alone) or `pfx=` (base64) and `password=`."""

    _ops = calls.CERTIFICATES


class PolicyFragments(_Crud[m.PolicyFragment]):
    _ops = calls.POLICY_FRAGMENTS


class Users(_Read[m.User]):
    _ops = calls.USERS


class Policies(Resource):
    """The global policy (every API's outermost scope)."""

    async def get_global(self) -> m.Policy:
        return await self._t.call(calls.get_policy("policies_global_retrieve"))

    async def set_global(self, xml: str, *, if_match: str | None = None) -> m.Policy:
        return await self._t.call(calls.set_policy("policies_global_update", xml, if_match))


class Catalog(Resource):
    """The whole catalog as one document (`portico export` / `portico apply`)."""

    async def export(self) -> dict[str, Any]:
        return await self._t.call(calls.catalog_export())

    async def apply(self, catalog: dict[str, Any]) -> m.CatalogApplyResult:
        return await self._t.call(calls.catalog_apply(catalog))
