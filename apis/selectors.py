"""Reads from the catalog, including the plain-data view of it that a gateway process serves."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet

from apis.models import Api, CatalogRevision, Gateway, GlobalPolicy, Product, Subscription


@dataclass(frozen=True, slots=True)
class ApiEntry:
    id: int
    name: str
    display_name: str
    url_suffix: str
    backend_url: str
    url_scheme: str
    subscription_required: bool
    key_header: str
    key_query: str
    policy_xml: str
    product_ids: tuple[int, ...]
    max_message_bytes: int
    idle_timeout_seconds: int
    max_duration_seconds: int


@dataclass(frozen=True, slots=True)
class ProductEntry:
    id: int
    name: str
    policy_xml: str


@dataclass(frozen=True, slots=True)
class SubscriptionEntry:
    id: int
    name: str
    owner_id: int | None
    scope: str
    product_id: int | None
    api_id: int | None
    state: str
    primary_key: str
    secondary_key: str
    start_date: datetime | None
    expiration_date: datetime | None


@dataclass(frozen=True, slots=True)
class GatewayCatalog:
    """Everything one gateway needs to route and authorise handshakes, without touching the DB."""

    revision: int
    gateway_found: bool
    apis: tuple[ApiEntry, ...]
    products: tuple[ProductEntry, ...]
    subscriptions: tuple[SubscriptionEntry, ...]
    global_policy_xml: str


# Subscriptions in these states are kept in a gateway's snapshot (others simply do not match).
LIVE_SUBSCRIPTION_STATES = (
    Subscription.State.ACTIVE,
    Subscription.State.SUSPENDED,
    Subscription.State.SUBMITTED,
)


def catalog_revision() -> int:
    row = CatalogRevision.objects.filter(pk=1).values_list("revision", flat=True).first()
    return row or 0


def gateway_catalog(gateway_name: str) -> GatewayCatalog:
    revision = catalog_revision()
    gateway = Gateway.objects.filter(name=gateway_name).first()
    if gateway is None:
        return GatewayCatalog(revision, False, (), (), (), "")
    apis = []
    for api in gateway.apis.prefetch_related("products").order_by("id"):
        apis.append(
            ApiEntry(
                id=api.id,
                name=api.name,
                display_name=api.display_name,
                url_suffix=api.url_suffix,
                backend_url=api.backend_url,
                url_scheme=api.url_scheme,
                subscription_required=api.subscription_required,
                key_header=api.subscription_key_header,
                key_query=api.subscription_key_query,
                policy_xml=api.policy_xml,
                product_ids=tuple(sorted(p.id for p in api.products.all())),
                max_message_bytes=api.max_message_bytes,
                idle_timeout_seconds=api.idle_timeout_seconds,
                max_duration_seconds=api.max_duration_seconds,
            )
        )
    products = tuple(
        ProductEntry(id=p["id"], name=p["name"], policy_xml=p["policy_xml"])
        for p in Product.objects.order_by("id").values("id", "name", "policy_xml")
    )
    subscriptions = tuple(
        SubscriptionEntry(**row)
        for row in Subscription.objects.filter(state__in=LIVE_SUBSCRIPTION_STATES)
        .order_by("id")
        .values(
            "id",
            "owner_id",
            "scope",
            "product_id",
            "api_id",
            "state",
            "primary_key",
            "secondary_key",
            "start_date",
            "expiration_date",
            name=F("display_name"),
        )
    )
    global_xml = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    return GatewayCatalog(revision, True, tuple(apis), products, subscriptions, global_xml or "")


# Pages and the management API -------------------------------------------------------------------


def effective_policy(api: Api):
    """The API's onHandshake policy with `<base/>` filled in from its products and All APIs.

    Products are taken in id order, as the gateway does; the result has `.to_xml()` and
    `.warnings` (inherited policies that onHandshake skips).
    """
    from gateway.policies import effective_document

    product_docs = list(api.products.order_by("id").values_list("policy_xml", flat=True))
    global_xml = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    return effective_document(api.policy_xml, product_docs, global_xml or "")


def api_list(*, search: str = "") -> QuerySet[Api]:
    qs = Api.objects.prefetch_related("products", "gateways")
    if search:
        qs = qs.filter(display_name__icontains=search) | qs.filter(url_suffix__icontains=search)
    return qs.order_by("display_name")


def published_products() -> QuerySet[Product]:
    return Product.objects.filter(state=Product.State.PUBLISHED).prefetch_related("apis")


def subscriptions_of(user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(owner=user).select_related("product", "api")
