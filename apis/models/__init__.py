"""The catalog's models by domain (catalog, subscriptions, library, nodes, tokens), importable
from here under the names they always had (migrations refer to `apis.models.generate_secret`)."""

from apis.models.catalog import (
    API_EDITABLE_FIELDS,
    API_FIELD_GROUPS,
    BUILTIN_GATEWAY_NAME,
    DEFAULT_KEY_HEADER,
    DEFAULT_KEY_QUERY,
    GATEWAY_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    Api,
    CatalogRevision,
    Gateway,
    GlobalPolicy,
    Product,
    underivable_name,
)
from apis.models.certificates import (
    EXPIRY_WARNING_DAYS,
    Certificate,
    GatewayHostname,
    validate_hostname,
)
from apis.models.keys import (
    NODE_TOKEN_PREFIX,
    generate_node_token,
    generate_secret,
    hash_node_token,
    unusable_token_hash,
)
from apis.models.library import NamedValue, PolicyFragment
from apis.models.nodes import NODE_FORGET_SECONDS, NODE_ONLINE_SECONDS, GatewayNode
from apis.models.subscriptions import Subscription
from apis.models.tokens import PersonalAccessToken, hash_token

__all__ = [
    "API_EDITABLE_FIELDS",
    "API_FIELD_GROUPS",
    "BUILTIN_GATEWAY_NAME",
    "DEFAULT_KEY_HEADER",
    "DEFAULT_KEY_QUERY",
    "GATEWAY_EDITABLE_FIELDS",
    "NODE_FORGET_SECONDS",
    "NODE_ONLINE_SECONDS",
    "NODE_TOKEN_PREFIX",
    "PRODUCT_EDITABLE_FIELDS",
    "Api",
    "Certificate",
    "EXPIRY_WARNING_DAYS",
    "GatewayHostname",
    "CatalogRevision",
    "Gateway",
    "GatewayNode",
    "GlobalPolicy",
    "NamedValue",
    "PersonalAccessToken",
    "PolicyFragment",
    "Product",
    "Subscription",
    "generate_node_token",
    "generate_secret",
    "hash_node_token",
    "hash_token",
    "underivable_name",
    "unusable_token_hash",
    "validate_hostname",
]
