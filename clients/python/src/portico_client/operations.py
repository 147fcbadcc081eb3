"""The one table of the management API's operations the SDK calls: operationId -> SDK method.

Every request the SDK sends is built from this table (method, path, the query parameters it may
carry), and the project's drift test checks it both ways against the server's OpenAPI schema: an
operation without an SDK method, or an SDK method whose operation the schema lacks, fails.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as the schema writes it, `{name}` placeholders included
    sdk: str  # "resource.method" on PorticoClient and AsyncPorticoClient
    query: tuple[str, ...] = ()  # the query parameters the SDK method may send


LIST = ("limit", "offset", "ordering")
V1 = "/api/v1"

OPERATIONS: dict[str, Operation] = {
    # APIs
    "apis_list": Operation(
        "GET",
        f"{V1}/apis/",
        "apis.list",
        (
            *LIST,
            "gateway",
            "name",
            "product",
            "q",
            "subscription_required",
            "url_scheme",
            "url_suffix",
        ),
    ),
    "apis_create": Operation("POST", f"{V1}/apis/", "apis.create"),
    "apis_retrieve": Operation("GET", f"{V1}/apis/{{name}}/", "apis.get"),
    "apis_update": Operation("PUT", f"{V1}/apis/{{name}}/", "apis.replace"),
    "apis_partial_update": Operation("PATCH", f"{V1}/apis/{{name}}/", "apis.update"),
    "apis_destroy": Operation("DELETE", f"{V1}/apis/{{name}}/", "apis.delete"),
    "apis_asyncapi_retrieve": Operation(
        "GET", f"{V1}/apis/{{name}}/asyncapi/", "apis.asyncapi", ("format",)
    ),
    "apis_effectivePolicy_retrieve": Operation(
        "GET", f"{V1}/apis/{{name}}/effectivePolicy/", "apis.effective_policy"
    ),
    "apis_policy_retrieve": Operation("GET", f"{V1}/apis/{{name}}/policy/", "apis.get_policy"),
    "apis_policy_update": Operation("PUT", f"{V1}/apis/{{name}}/policy/", "apis.set_policy"),
    "apis_import_asyncapi_create": Operation(
        "POST", f"{V1}/apis/import-asyncapi/", "apis.import_asyncapi"
    ),
    "apis_tokens_list": Operation("GET", f"{V1}/apis/{{name}}/tokens/", "apis.list_tokens"),
    "apis_tokens_create": Operation("POST", f"{V1}/apis/{{name}}/tokens/", "apis.create_token"),
    "apis_tokens_revoke": Operation(
        "DELETE", f"{V1}/apis/{{name}}/tokens/{{id}}/", "apis.revoke_token"
    ),
    # The catalog as one document
    "catalog_retrieve": Operation("GET", f"{V1}/catalog/", "catalog.export"),
    "catalog_apply_create": Operation("POST", f"{V1}/catalog/apply/", "catalog.apply"),
    # Live connections
    "connections_list": Operation(
        "GET",
        f"{V1}/connections/",
        "connections.list",
        ("limit", "offset", "api", "product", "subscription", "node", "gateway", "tag"),
    ),
    "connections_retrieve": Operation("GET", f"{V1}/connections/{{id}}/", "connections.get"),
    "connections_destroy": Operation("DELETE", f"{V1}/connections/{{id}}/", "connections.close"),
    "connections_send_message": Operation(
        "POST", f"{V1}/connections/{{id}}/messages/", "connections.send"
    ),
    "connections_broadcast": Operation(
        "POST", f"{V1}/connections/broadcast/", "connections.broadcast"
    ),
    # Gateways
    "gateways_list": Operation(
        "GET", f"{V1}/gateways/", "gateways.list", (*LIST, "api", "kind", "name", "q")
    ),
    "gateways_create": Operation("POST", f"{V1}/gateways/", "gateways.create"),
    "gateways_retrieve": Operation("GET", f"{V1}/gateways/{{name}}/", "gateways.get"),
    "gateways_update": Operation("PUT", f"{V1}/gateways/{{name}}/", "gateways.replace"),
    "gateways_partial_update": Operation("PATCH", f"{V1}/gateways/{{name}}/", "gateways.update"),
    "gateways_destroy": Operation("DELETE", f"{V1}/gateways/{{name}}/", "gateways.delete"),
    "gateways_nodes_list": Operation("GET", f"{V1}/gateways/{{name}}/nodes/", "gateways.nodes"),
    "gateways_regenerateToken_create": Operation(
        "POST", f"{V1}/gateways/{{name}}/regenerateToken/", "gateways.regenerate_token"
    ),
    # Certificates (keys never answered)
    "certificates_list": Operation("GET", f"{V1}/certificates/", "certificates.list", LIST),
    "certificates_create": Operation("POST", f"{V1}/certificates/", "certificates.create"),
    "certificates_retrieve": Operation("GET", f"{V1}/certificates/{{name}}/", "certificates.get"),
    "certificates_update": Operation("PUT", f"{V1}/certificates/{{name}}/", "certificates.replace"),
    "certificates_partial_update": Operation(
        "PATCH", f"{V1}/certificates/{{name}}/", "certificates.update"
    ),
    "certificates_destroy": Operation(
        "DELETE", f"{V1}/certificates/{{name}}/", "certificates.delete"
    ),
    # Named values and policy fragments
    "namedValues_list": Operation("GET", f"{V1}/namedValues/", "named_values.list", LIST),
    "namedValues_create": Operation("POST", f"{V1}/namedValues/", "named_values.create"),
    "namedValues_retrieve": Operation("GET", f"{V1}/namedValues/{{name}}/", "named_values.get"),
    "namedValues_update": Operation("PUT", f"{V1}/namedValues/{{name}}/", "named_values.replace"),
    "namedValues_partial_update": Operation(
        "PATCH", f"{V1}/namedValues/{{name}}/", "named_values.update"
    ),
    "namedValues_destroy": Operation(
        "DELETE", f"{V1}/namedValues/{{name}}/", "named_values.delete"
    ),
    "policyFragments_list": Operation(
        "GET", f"{V1}/policyFragments/", "policy_fragments.list", LIST
    ),
    "policyFragments_create": Operation(
        "POST", f"{V1}/policyFragments/", "policy_fragments.create"
    ),
    "policyFragments_retrieve": Operation(
        "GET", f"{V1}/policyFragments/{{name}}/", "policy_fragments.get"
    ),
    "policyFragments_update": Operation(
        "PUT", f"{V1}/policyFragments/{{name}}/", "policy_fragments.replace"
    ),
    "policyFragments_partial_update": Operation(
        "PATCH", f"{V1}/policyFragments/{{name}}/", "policy_fragments.update"
    ),
    "policyFragments_destroy": Operation(
        "DELETE", f"{V1}/policyFragments/{{name}}/", "policy_fragments.delete"
    ),
    # The global policy
    "policies_global_retrieve": Operation("GET", f"{V1}/policies/global", "policies.get_global"),
    "policies_global_update": Operation("PUT", f"{V1}/policies/global", "policies.set_global"),
    # Products
    "products_list": Operation(
        "GET",
        f"{V1}/products/",
        "products.list",
        (*LIST, "api", "approval_required", "name", "q", "state"),
    ),
    "products_create": Operation("POST", f"{V1}/products/", "products.create"),
    "products_retrieve": Operation("GET", f"{V1}/products/{{name}}/", "products.get"),
    "products_update": Operation("PUT", f"{V1}/products/{{name}}/", "products.replace"),
    "products_partial_update": Operation("PATCH", f"{V1}/products/{{name}}/", "products.update"),
    "products_destroy": Operation(
        "DELETE", f"{V1}/products/{{name}}/", "products.delete", ("force",)
    ),
    "products_policy_retrieve": Operation(
        "GET", f"{V1}/products/{{name}}/policy/", "products.get_policy"
    ),
    "products_policy_update": Operation(
        "PUT", f"{V1}/products/{{name}}/policy/", "products.set_policy"
    ),
    # Subscriptions
    "subscriptions_list": Operation(
        "GET",
        f"{V1}/subscriptions/",
        "subscriptions.list",
        (*LIST, "api", "owner", "product", "scope", "state"),
    ),
    "subscriptions_create": Operation("POST", f"{V1}/subscriptions/", "subscriptions.create"),
    "subscriptions_retrieve": Operation("GET", f"{V1}/subscriptions/{{id}}/", "subscriptions.get"),
    "subscriptions_update": Operation(
        "PUT", f"{V1}/subscriptions/{{id}}/", "subscriptions.replace"
    ),
    "subscriptions_partial_update": Operation(
        "PATCH", f"{V1}/subscriptions/{{id}}/", "subscriptions.update"
    ),
    "subscriptions_approve_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/approve/", "subscriptions.approve"
    ),
    "subscriptions_reject_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/reject/", "subscriptions.reject"
    ),
    "subscriptions_suspend_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/suspend/", "subscriptions.suspend"
    ),
    "subscriptions_reactivate_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/reactivate/", "subscriptions.reactivate"
    ),
    "subscriptions_cancel_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/cancel/", "subscriptions.cancel"
    ),
    "subscriptions_regenerateKey_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/regenerateKey/", "subscriptions.regenerate_key"
    ),
    "subscriptions_listSecrets_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/listSecrets/", "subscriptions.list_secrets"
    ),
    "subscriptions_connectTickets_create": Operation(
        "POST", f"{V1}/subscriptions/{{id}}/connectTickets/", "subscriptions.create_connect_ticket"
    ),
    # Users
    "users_list": Operation(
        "GET",
        f"{V1}/users/",
        "users.list",
        (*LIST, "is_active", "is_staff", "is_superuser", "username"),
    ),
    "users_retrieve": Operation("GET", f"{V1}/users/{{id}}/", "users.get"),
}
