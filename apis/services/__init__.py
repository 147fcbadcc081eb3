"""All writes to the catalog, by domain: keyword-only, typed, atomic, validated with
full_clean(). Every service is importable from here (`from apis import services`)."""

# Subscription was reachable as services.Subscription before the split (tests use it).
from apis.models import Subscription
from apis.services.catalog import (
    create_api,
    create_gateway,
    create_product,
    delete_api,
    delete_gateway,
    delete_product,
    ensure_builtin_gateway,
    set_gateway_apis,
    set_global_policy,
    update_api,
    update_gateway,
    update_product,
)
from apis.services.certificates import (
    create_certificate,
    delete_certificate,
    replace_certificate,
    set_api_backend_ca,
    set_gateway_hostnames,
)
from apis.services.common import (
    InUse,
)
from apis.services.library import (
    create_named_value,
    create_policy_fragment,
    delete_named_value,
    delete_policy_fragment,
    update_named_value,
    update_policy_fragment,
)
from apis.services.nodes import (
    NODE_FORGET_SECONDS,
    NODE_ONLINE_SECONDS,
    record_gateway_heartbeat,
    record_node_heartbeat,
    regenerate_gateway_token,
)
from apis.services.subscriptions import (
    TRANSITIONS,
    State,
    approve_subscription,
    cancel_subscription,
    change_subscription_state,
    create_subscription,
    ensure_publisher_console_subscription,
    reactivate_subscription,
    regenerate_subscription_key,
    reject_subscription,
    rename_subscription,
    suspend_subscription,
)
from apis.services.tokens import (
    TOKEN_TOUCH_SECONDS,
    create_access_token,
    revoke_access_token,
    touch_access_token,
)

__all__ = [
    "set_api_backend_ca",
    "set_gateway_hostnames",
    "replace_certificate",
    "delete_certificate",
    "create_certificate",
    "InUse",
    "NODE_FORGET_SECONDS",
    "NODE_ONLINE_SECONDS",
    "State",
    "Subscription",
    "TOKEN_TOUCH_SECONDS",
    "TRANSITIONS",
    "approve_subscription",
    "cancel_subscription",
    "change_subscription_state",
    "create_access_token",
    "create_api",
    "create_gateway",
    "create_named_value",
    "create_policy_fragment",
    "create_product",
    "create_subscription",
    "delete_api",
    "delete_gateway",
    "delete_named_value",
    "delete_policy_fragment",
    "delete_product",
    "ensure_builtin_gateway",
    "ensure_publisher_console_subscription",
    "reactivate_subscription",
    "record_gateway_heartbeat",
    "record_node_heartbeat",
    "regenerate_gateway_token",
    "regenerate_subscription_key",
    "reject_subscription",
    "rename_subscription",
    "revoke_access_token",
    "set_gateway_apis",
    "set_global_policy",
    "suspend_subscription",
    "touch_access_token",
    "update_api",
    "update_gateway",
    "update_named_value",
    "update_policy_fragment",
    "update_product",
]
