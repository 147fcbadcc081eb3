"""Writes to gateways, APIs, products and the All APIs policy: keyword-only, typed, atomic,
validated with full_clean()."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from apis.models import (
    API_EDITABLE_FIELDS,
    BUILTIN_GATEWAY_NAME,
    GATEWAY_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    Api,
    Gateway,
    GlobalPolicy,
    Product,
)
from apis.services.common import InUse, assign

# Gateways ---------------------------------------------------------------------------------------


def ensure_builtin_gateway() -> Gateway:
    gateway, _ = Gateway.objects.get_or_create(
        name=BUILTIN_GATEWAY_NAME,
        defaults={"kind": Gateway.Kind.MANAGED, "description": "Built-in managed gateway"},
    )
    return gateway


@transaction.atomic
def create_gateway(*, name: str, **fields) -> Gateway:
    gateway = Gateway(name=name)
    assign(gateway, GATEWAY_EDITABLE_FIELDS, fields)
    gateway.full_clean()
    gateway.save()
    return gateway


@transaction.atomic
def update_gateway(*, gateway: Gateway, **fields) -> Gateway:
    assign(gateway, GATEWAY_EDITABLE_FIELDS, fields)
    gateway.full_clean()
    gateway.save()
    return gateway


@transaction.atomic
def set_gateway_apis(*, gateway: Gateway, apis: Iterable[Api]) -> Gateway:
    """Make `apis` exactly the APIs this gateway serves."""
    gateway.apis.set(list(apis))
    return gateway


@transaction.atomic
def delete_gateway(*, gateway: Gateway) -> None:
    if gateway.is_builtin:
        raise ValidationError({"name": "The built-in managed gateway cannot be deleted."})
    gateway.delete()


# APIs -------------------------------------------------------------------------------------------


@transaction.atomic
def create_api(
    *,
    display_name: str,
    backend_url: str,
    url_suffix: str,
    products: Iterable[Product] = (),
    gateways: Iterable[Gateway] | None = None,
    **fields,
) -> Api:
    """Create a WebSocket API; with gateways=None it goes on the built-in managed gateway."""
    api = Api(display_name=display_name, backend_url=backend_url, url_suffix=url_suffix)
    assign(api, API_EDITABLE_FIELDS, fields)
    api.full_clean()
    api.save()
    api.gateways.set(list(gateways) if gateways is not None else [ensure_builtin_gateway()])
    api.products.set(list(products))
    return api


@transaction.atomic
def update_api(
    *,
    api: Api,
    products: Iterable[Product] | None = None,
    gateways: Iterable[Gateway] | None = None,
    **fields,
) -> Api:
    assign(api, API_EDITABLE_FIELDS, fields)
    api.full_clean()
    api.save()
    if gateways is not None:
        api.gateways.set(list(gateways))
    if products is not None:
        api.products.set(list(products))
    return api


@transaction.atomic
def delete_api(*, api: Api) -> None:
    api.delete()


# Products ---------------------------------------------------------------------------------------


@transaction.atomic
def create_product(*, display_name: str, apis: Iterable[Api] = (), groups=(), **fields) -> Product:
    product = Product(display_name=display_name)
    assign(product, PRODUCT_EDITABLE_FIELDS, fields)
    product.full_clean()
    product.save()
    product.apis.set(list(apis))
    product.groups.set(list(groups))
    return product


@transaction.atomic
def update_product(
    *, product: Product, apis: Iterable[Api] | None = None, groups=None, **fields
) -> Product:
    assign(product, PRODUCT_EDITABLE_FIELDS, fields)
    product.full_clean()
    product.save()
    if apis is not None:
        product.apis.set(list(apis))
    if groups is not None:
        product.groups.set(list(groups))
    return product


@transaction.atomic
def delete_product(*, product: Product, force: bool = False) -> None:
    """Delete a product; its subscriptions go with it only when the caller says so."""
    count = product.subscriptions.count()
    if count and not force:
        noun = "subscription" if count == 1 else "subscriptions"
        raise InUse(
            f"product '{product.name}' has {count} {noun}; pass force=true to delete them too"
        )
    product.delete()


# Global policy ----------------------------------------------------------------------------------


@transaction.atomic
def set_global_policy(*, policy_xml: str) -> GlobalPolicy:
    policy = GlobalPolicy.objects.order_by("pk").first() or GlobalPolicy()
    policy.policy_xml = policy_xml
    policy.full_clean()
    policy.save()
    return policy
