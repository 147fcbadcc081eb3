"""Publisher pages: APIs, products, gateways and subscriptions (telemetry adds its own tabs)."""

from django.urls import path

from apis import views
from apis.views import (
    api_pages,
    api_token_pages,
    asyncapi_pages,
    gateway_pages,
    library_pages,
    policy_pages,
    product_pages,
    subscription_pages,
)

app_name = "publisher"

urlpatterns = [
    path("", views.index, name="index"),
    path("apis/", api_pages.api_list, name="api-list"),
    path("apis/add/", api_pages.api_create, name="api-create"),
    path("apis/import/", asyncapi_pages.api_import, name="api-import"),
    path("apis/<slug:name>/", api_pages.api_settings, name="api-settings"),
    path("apis/<slug:name>/policy/", api_pages.api_policy, name="api-policy"),
    path("apis/<slug:name>/test/", api_pages.api_test, name="api-test"),
    path(
        "apis/<slug:name>/test/ticket/",
        api_pages.api_console_ticket,
        name="api-console-ticket",
    ),
    path("apis/<slug:name>/asyncapi/", asyncapi_pages.api_asyncapi, name="api-asyncapi"),
    path("apis/<slug:name>/delete/", api_pages.api_delete, name="api-delete"),
    path("apis/<slug:name>/tokens/", api_token_pages.api_tokens, name="api-tokens"),
    path(
        "apis/<slug:name>/tokens/<int:pk>/revoke/",
        api_token_pages.api_token_revoke,
        name="api-token-revoke",
    ),
    path("products/", product_pages.product_list, name="product-list"),
    path("products/add/", product_pages.product_create, name="product-create"),
    path("products/<slug:name>/", product_pages.product_edit, name="product-edit"),
    path("products/<slug:name>/policy/", product_pages.product_policy, name="product-policy"),
    path(
        "products/<slug:name>/subscriptions/",
        product_pages.product_subscriptions,
        name="product-subscriptions",
    ),
    path("gateways/", gateway_pages.gateway_list, name="gateway-list"),
    path("gateways/add/", gateway_pages.gateway_create, name="gateway-create"),
    path("gateways/<slug:name>/", gateway_pages.gateway_edit, name="gateway-edit"),
    path("gateways/<slug:name>/token/", gateway_pages.gateway_token, name="gateway-token"),
    path("policy/", policy_pages.global_policy, name="global-policy"),
    path("policy/reference/", library_pages.policy_reference, name="policy-reference"),
    path("named-values/", library_pages.named_value_list, name="named-value-list"),
    path("named-values/add/", library_pages.named_value_create, name="named-value-create"),
    path("named-values/<str:name>/", library_pages.named_value_edit, name="named-value-edit"),
    path(
        "named-values/<str:name>/delete/",
        library_pages.named_value_delete,
        name="named-value-delete",
    ),
    path("fragments/", library_pages.fragment_list, name="fragment-list"),
    path("fragments/add/", library_pages.fragment_create, name="fragment-create"),
    path("fragments/<str:name>/", library_pages.fragment_edit, name="fragment-edit"),
    path("fragments/<str:name>/delete/", library_pages.fragment_delete, name="fragment-delete"),
    path("subscriptions/", subscription_pages.subscription_list, name="subscription-list"),
    path("subscriptions/add/", subscription_pages.subscription_create, name="subscription-create"),
    path(
        "subscriptions/<int:pk>/keys/",
        subscription_pages.subscription_keys,
        name="subscription-keys",
    ),
    path(
        "subscriptions/<int:pk>/regenerate/<str:which>/",
        subscription_pages.subscription_regenerate,
        name="subscription-regenerate",
    ),
    path(
        "subscriptions/<int:pk>/action/",
        subscription_pages.subscription_action,
        name="subscription-action",
    ),
]
