"""What each SDK method asks for, shared by the sync and async clients: one Call per operation."""

import base64
from typing import Any

from portico_client import models as m
from portico_client.connection_models import ApiToken, BroadcastResult, LiveConnection, SendResult
from portico_client.model import Model
from portico_client.request import Call, Request, build, document, fields, many, nothing, one

Key = str | int  # a name (APIs, products, ...) or a number (subscriptions, users)


class Collection:
    """The CRUD operations of one collection, named `<prefix>_list`, `<prefix>_retrieve`, ..."""

    def __init__(self, prefix: str, model: type[Model], key: str = "name") -> None:
        self.prefix = prefix
        self.model = model
        self.key = key

    def list(self, page_size: int, filters: dict[str, Any]) -> Request:
        return build(f"{self.prefix}_list", query={**filters, "limit": page_size})

    def get(self, key: Key) -> Call[Any]:
        return Call(build(f"{self.prefix}_retrieve", path={self.key: key}), one(self.model))

    def create(self, body: dict[str, Any]) -> Call[Any]:
        return Call(build(f"{self.prefix}_create", body=fields(body)), one(self.model))

    def replace(self, key: Key, body: dict[str, Any], if_match: str | None) -> Call[Any]:
        request = build(
            f"{self.prefix}_update", path={self.key: key}, body=fields(body), if_match=if_match
        )
        return Call(request, one(self.model))

    def update(self, key: Key, body: dict[str, Any], if_match: str | None) -> Call[Any]:
        request = build(
            f"{self.prefix}_partial_update",
            path={self.key: key},
            body=fields(body),
            if_match=if_match,
        )
        return Call(request, one(self.model))

    def delete(self, key: Key, **query: Any) -> Call[None]:
        return Call(build(f"{self.prefix}_destroy", path={self.key: key}, query=query), nothing)


APIS = Collection("apis", m.Api)
PRODUCTS = Collection("products", m.Product)
GATEWAYS = Collection("gateways", m.Gateway)
SUBSCRIPTIONS = Collection("subscriptions", m.Subscription, key="id")
NAMED_VALUES = Collection("namedValues", m.NamedValue)
CERTIFICATES = Collection("certificates", m.Certificate)
POLICY_FRAGMENTS = Collection("policyFragments", m.PolicyFragment)
USERS = Collection("users", m.User, key="id")
CONNECTIONS = Collection("connections", LiveConnection, key="id")


def asyncapi(name: str) -> Call[dict[str, Any]]:
    return Call(
        build("apis_asyncapi_retrieve", path={"name": name}, query={"format": "json"}), document
    )


def effective_policy(name: str) -> Call[m.EffectivePolicy]:
    request = build("apis_effectivePolicy_retrieve", path={"name": name})
    return Call(request, one(m.EffectivePolicy))


def get_policy(operation_id: str, path: dict[str, Key] | None = None) -> Call[m.Policy]:
    return Call(build(operation_id, path=path), one(m.Policy))


def set_policy(
    operation_id: str, xml: str, if_match: str | None, path: dict[str, Key] | None = None
) -> Call[m.Policy]:
    request = build(operation_id, path=path, body={"policy_xml": xml}, if_match=if_match)
    return Call(request, one(m.Policy))


def import_asyncapi(document_text: str, options: dict[str, Any]) -> Call[m.Api]:
    body = {"document": document_text, **fields(options)}
    return Call(build("apis_import_asyncapi_create", body=body), one(m.Api))


def list_tokens(api: str) -> Call[list[ApiToken]]:
    return Call(build("apis_tokens_list", path={"name": api}), many(ApiToken))


def create_token(api: str, name: str) -> Call[ApiToken]:
    return Call(build("apis_tokens_create", path={"name": api}, body={"name": name}), one(ApiToken))


def revoke_token(api: str, token_id: int) -> Call[None]:
    return Call(build("apis_tokens_revoke", path={"name": api, "id": token_id}), nothing)


def catalog_export() -> Call[dict[str, Any]]:
    return Call(build("catalog_retrieve"), document)


def catalog_apply(catalog: dict[str, Any]) -> Call[m.CatalogApplyResult]:
    return Call(build("catalog_apply_create", body=catalog), one(m.CatalogApplyResult))


def gateway_nodes(name: str) -> Call[list[m.GatewayNode]]:
    return Call(build("gateways_nodes_list", path={"name": name}), many(m.GatewayNode))


def regenerate_token(name: str, which: str) -> Call[m.NewGatewayToken]:
    request = build("gateways_regenerateToken_create", path={"name": name}, body={"token": which})
    return Call(request, one(m.NewGatewayToken))


def transition(action: str, subscription: int, comment: str) -> Call[m.Subscription]:
    request = build(
        f"subscriptions_{action}_create", path={"id": subscription}, body={"comment": comment}
    )
    return Call(request, one(m.Subscription))


def regenerate_key(subscription: int, which: str) -> Call[m.Subscription]:
    request = build(
        "subscriptions_regenerateKey_create", path={"id": subscription}, body={"key": which}
    )
    return Call(request, one(m.Subscription))


def list_secrets(subscription: int) -> Call[m.SubscriptionSecrets]:
    request = build("subscriptions_listSecrets_create", path={"id": subscription})
    return Call(request, one(m.SubscriptionSecrets))


def connect_ticket(
    subscription: int, api: str, *, gateway: str, origin: str, expires_in: int, key: str | None
) -> Call[m.ConnectTicket]:
    body = {"api": api, "gateway": gateway, "origin": origin, "expires_in": expires_in}
    headers = {"Ocp-Apim-Subscription-Key": key} if key else None
    request = build(
        "subscriptions_connectTickets_create", path={"id": subscription}, body=body, headers=headers
    )
    return Call(request, one(m.ConnectTicket))


def message(text: str | None, data: bytes | None) -> dict[str, str]:
    """`{"text": …}` or `{"data": <base64>}`: exactly one of the two."""
    if (text is None) == (data is None):
        raise TypeError("give exactly one of text= or data=")
    if text is not None:
        return {"text": text}
    return {"data": base64.b64encode(data or b"").decode("ascii")}


def close_connection(connection: str, reason: str | None) -> Call[LiveConnection]:
    body = {"reason": reason} if reason else {}
    request = build("connections_destroy", path={"id": connection}, body=body)
    return Call(request, one(LiveConnection))


def send(connection: str, text: str | None, data: bytes | None) -> Call[SendResult]:
    request = build("connections_send_message", path={"id": connection}, body=message(text, data))
    return Call(request, one(SendResult))


def broadcast(
    selector: dict[str, str | int | None], text: str | None, data: bytes | None
) -> Call[BroadcastResult]:
    # No selector at all is the server's to refuse (400, with the reason), like any bad request.
    request = build("connections_broadcast", body={**fields(selector), **message(text, data)})
    return Call(request, one(BroadcastResult))
