"""portico_client: the typed Python client of Portico's management API, sync and async."""

from portico_client.async_client import AsyncPorticoClient
from portico_client.client import PorticoClient
from portico_client.connection_models import ApiToken, BroadcastResult, LiveConnection, SendResult
from portico_client.errors import PorticoError
from portico_client.models import (
    Api,
    CatalogApplyResult,
    Certificate,
    ConnectTicket,
    EffectivePolicy,
    Gateway,
    GatewayNode,
    NamedValue,
    NewGatewayToken,
    Policy,
    PolicyFragment,
    Product,
    ProductEffectivePolicy,
    Subscription,
    SubscriptionSecrets,
    User,
    UserSubscription,
)
from portico_client.retry import NO_RETRY, RetryPolicy

__all__ = [
    "NO_RETRY",
    "Api",
    "ApiToken",
    "AsyncPorticoClient",
    "BroadcastResult",
    "CatalogApplyResult",
    "ConnectTicket",
    "EffectivePolicy",
    "Gateway",
    "GatewayNode",
    "LiveConnection",
    "SendResult",
    "Certificate",
    "NamedValue",
    "NewGatewayToken",
    "Policy",
    "PolicyFragment",
    "PorticoClient",
    "PorticoError",
    "Product",
    "ProductEffectivePolicy",
    "RetryPolicy",
    "Subscription",
    "SubscriptionSecrets",
    "User",
    "UserSubscription",
]
