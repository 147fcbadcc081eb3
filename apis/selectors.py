"""Reads from the catalog, including the plain-data view of it that a gateway process serves."""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apis.asyncapi.contract import has_contract, message_schemas
from apis.models import (
    Api,
    CatalogRevision,
    Gateway,
    GlobalPolicy,
    Product,
    Subscription,
    hash_node_token,
)

log = logging.getLogger("portico.portal")


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
    # The AsyncAPI contract's payload schemas, {"send": [...], "receive": [...]} (None: no
    # contract), for validate-message schema-source="asyncapi"; plain JSON for node configs.
    message_schemas: dict | None = None
    # Most open connections per subscription (None: no cap); the product's may be smaller.
    max_connections: int | None = None


@dataclass(frozen=True, slots=True)
class ProductEntry:
    id: int
    name: str
    policy_xml: str
    published: bool = True  # an unpublished product's subscriptions no longer connect
    max_connections: int | None = None  # per subscription (None: no cap)


@dataclass(frozen=True, slots=True)
class SubscriptionEntry:
    id: int
    name: str
    owner_id: int | None
    scope: str
    product_id: int | None
    api_id: int | None
    state: str
    primary_key_hash: str  # hex HMAC-SHA256 of the key under the gateway's key-hash secret
    secondary_key_hash: str
    start_date: datetime | None
    expiration_date: datetime | None
    # The owner's email, only for subscriptions that reach a policy using context.User.Email
    # (privacy: nodes are not sent addresses no policy reads).
    owner_email: str = ""


@dataclass(frozen=True, slots=True)
class GatewayCatalog:
    """Everything one gateway needs to route and authorise handshakes, without touching the DB."""

    revision: int
    gateway_found: bool
    apis: tuple[ApiEntry, ...]
    products: tuple[ProductEntry, ...]
    subscriptions: tuple[SubscriptionEntry, ...]
    global_policy_xml: str
    # (id, state) of subscriptions that ended lately: the reason given when their open
    # connections are closed ("subscription cancelled" rather than a guess).
    ended_subscriptions: tuple[tuple[int, str], ...] = ()
    key_hash_secret: str = ""  # keys are known here only as HMACs under this secret
    # Headers that policies check or set with a secret named value: redacted in the node's
    # logs like credential headers (the node cannot tell a secret value from another).
    secret_headers: tuple[str, ...] = ()
    # The clear values of the secret named values the policies use: the node's log filter
    # replaces them wherever they appear (a backend URL's path, an error naming that URL).
    secret_values: tuple[str, ...] = ()


def subscription_key_hash(secret: str, key: str) -> str:
    """The keyed hash a gateway knows a subscription key by (hex HMAC-SHA256).

    Keys never leave the control plane in clear: nodes receive and keep these hashes, and hash
    what a client presents the same way."""
    return hmac.new(
        secret.encode(), key.encode("utf-8", "surrogateescape"), hashlib.sha256
    ).hexdigest()


# Subscriptions in these states are kept in a gateway's snapshot (others simply do not match).
LIVE_SUBSCRIPTION_STATES = (
    Subscription.State.ACTIVE,
    Subscription.State.SUSPENDED,
    Subscription.State.SUBMITTED,
)
ENDED_SUBSCRIPTION_STATES = (
    Subscription.State.CANCELLED,
    Subscription.State.EXPIRED,
    Subscription.State.REJECTED,
)
ENDED_LATELY = timedelta(days=1)  # longer than any gateway takes to see the change


def _message_schemas(api: Api) -> dict | None:
    if not has_contract(api):
        return None
    return {
        direction: [m.schema for m in found] for direction, found in message_schemas(api).items()
    }


def catalog_revision() -> int:
    row = CatalogRevision.objects.filter(pk=1).values_list("revision", flat=True).first()
    return row or 0


def gateway_catalog(gateway_name: str) -> GatewayCatalog:
    revision = catalog_revision()
    gateway = Gateway.objects.filter(name=gateway_name).first()
    if gateway is None:
        return GatewayCatalog(revision, False, (), (), (), "")
    resolve = _node_resolver()
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
                policy_xml=resolve(api.policy_xml, "api", f"API '{api.name}'"),
                product_ids=tuple(sorted(p.id for p in api.products.all())),
                max_message_bytes=api.max_message_bytes,
                idle_timeout_seconds=api.idle_timeout_seconds,
                max_duration_seconds=api.max_duration_seconds,
                message_schemas=_message_schemas(api),
                max_connections=api.max_connections_per_subscription,
            )
        )
    # Only what reaches this gateway's APIs: a node holds no other gateway's products, keys or
    # secrets (its saved copy neither), and only these policies' secret values are resolved.
    product_ids = {pid for api in apis for pid in api.product_ids}
    products = tuple(
        ProductEntry(
            id=p["id"],
            name=p["name"],
            policy_xml=resolve(p["policy_xml"], "product", f"product '{p['name']}'"),
            published=p["state"] == Product.State.PUBLISHED,
            max_connections=p["max_connections_per_subscription"],
        )
        for p in Product.objects.filter(id__in=product_ids)
        .order_by("id")
        .values("id", "name", "policy_xml", "state", "max_connections_per_subscription")
    )
    reaching = subscriptions_reaching({api.id for api in apis}, product_ids)
    secret = gateway.key_hash_secret
    rows = (
        Subscription.objects.filter(reaching, state__in=LIVE_SUBSCRIPTION_STATES)
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
            email=F("owner__email"),
        )
    )
    resolved_global = resolve(global_xml_of(), "global", "All APIs")
    needs_email = _email_needed(apis, products, resolved_global)
    subscriptions = tuple(_subscription_entry(row, secret, needs_email) for row in rows)
    ended = tuple(
        Subscription.objects.filter(
            reaching,
            state__in=ENDED_SUBSCRIPTION_STATES,
            end_date__gte=timezone.now() - ENDED_LATELY,
        )
        .order_by("id")
        .values_list("id", "state")
    )
    return GatewayCatalog(
        revision,
        True,
        tuple(apis),
        products,
        subscriptions,
        resolved_global,
        ended_subscriptions=ended,
        key_hash_secret=secret,
        secret_headers=tuple(sorted(resolve.secret_headers)),
        secret_values=tuple(sorted(resolve.secret_values)),
    )


def subscriptions_reaching(api_ids: set[int], product_ids: set[int]) -> Q:
    """Subscriptions whose keys open one of these APIs (`product_ids`: their products): the
    all-APIs ones, those scoped to one of the APIs, those of one of the products."""
    if not api_ids:
        return Q(pk__in=[])  # no API: nothing reaches it (and no query is run)
    return (
        Q(scope=Subscription.Scope.ALL_APIS)
        | Q(scope=Subscription.Scope.API, api_id__in=api_ids)
        | Q(scope=Subscription.Scope.PRODUCT, product_id__in=product_ids)
    )


def _node_resolver():
    """Documents as gateways compile them: named values filled in, fragments expanded.

    Nodes never hold the secrets key, so they receive resolved text (a self-hosted node's
    saved configuration then holds resolved secrets: it is written 0600). A document that
    does not resolve, or whose resolved text does not parse, is sent as written: the node
    refuses the `{{name}}` or `<include-fragment>` left in it and fails closed. Why it does not
    resolve (a document written to the database beyond the limits, say) is logged here, where
    the reason is known, with secret values never quoted.
    """
    from apis.policy_validation import headers_carrying, policy_environment
    from gateway.policies import PolicyError, parse_document

    env = policy_environment()
    secret_headers: set[str] = set()
    secret_values: set[str] = set()

    def resolve(xml: str, scope: str, label: str) -> str:
        if not xml or ("{{" not in xml and "include-fragment" not in xml):
            return xml
        try:
            text = env.resolve(xml)
            parse_document(text, scope, lenient=True)
        except PolicyError as exc:
            log.error(
                "policy of %s cannot be sent to gateways resolved; they refuse it: %s",
                label,
                env.describe(exc),
            )
            return xml
        used = env.secret_values_used()
        secret_headers.update(headers_carrying(text, used))
        secret_values.update(used)
        return text

    resolve.secret_headers = secret_headers
    resolve.secret_values = secret_values
    return resolve


def global_xml_of() -> str:
    xml = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    return xml or ""


USER_EMAIL = "context.User.Email"


def _email_needed(apis, products, global_xml: str):
    """Which subscriptions' owner emails a gateway needs: those reaching a policy (API, product
    or All APIs) that reads context.User.Email. The others are never sent an address."""
    if USER_EMAIL in global_xml:
        return lambda row: True
    api_ids = {a.id for a in apis if USER_EMAIL in a.policy_xml}
    product_ids = {p.id for p in products if USER_EMAIL in p.policy_xml}
    product_ids |= {pid for a in apis if a.id in api_ids for pid in a.product_ids}
    if not api_ids and not product_ids:
        return lambda row: False
    return lambda row: (
        (row["scope"] == Subscription.Scope.ALL_APIS and bool(api_ids))
        or row["api_id"] in api_ids
        or row["product_id"] in product_ids
    )


def _subscription_entry(row: dict, secret: str, needs_email) -> SubscriptionEntry:
    primary, secondary = row.pop("primary_key"), row.pop("secondary_key")
    email = row.pop("email") or ""
    return SubscriptionEntry(
        **row,
        primary_key_hash=subscription_key_hash(secret, primary),
        secondary_key_hash=subscription_key_hash(secret, secondary),
        owner_email=email if email and needs_email(row) else "",
    )


def gateway_for_node_token(token: str) -> Gateway | None:
    """The gateway whose primary or secondary node token this is, or None.

    Looked up by the token's hash (no timing on the token itself), then confirmed with a
    constant-time comparison of the hashes."""
    if not token:
        return None
    presented = hash_node_token(token)
    gateway = (
        Gateway.objects.filter(Q(primary_token_hash=presented) | Q(secondary_token_hash=presented))
        .only("id", "name", "kind", "primary_token_hash", "secondary_token_hash")
        .first()
    )
    if gateway is None:
        return None
    primary = hmac.compare_digest(gateway.primary_token_hash, presented)
    secondary = hmac.compare_digest(gateway.secondary_token_hash, presented)
    return gateway if primary | secondary else None


# Pages and the management API -------------------------------------------------------------------


NO_PRODUCT_APPLIES_TO = (
    "all-APIs and API-scoped subscriptions, and handshakes without a subscription key"
)


@dataclass(frozen=True)
class EffectiveVariant:
    """The effective policy one group of callers gets: a product's subscribers, or no product.

    `effective` has `.to_xml()`, `.inbound` and `.warnings`; it is None when a stored document
    no longer parses (then `error` says why).
    """

    product: Product | None
    applies_to: str
    effective: object | None
    error: str = ""


def effective_policy(api: Api, product: Product | None = None):
    """The policy a handshake to `api` runs: the API's document with `<base/>` filled in.

    As in Azure, only the subscription's own product's policy applies: with `product`, API ->
    that product -> All APIs (what its subscribers get); without, API -> All APIs (all-APIs and
    API-scoped subscriptions). The result has `.to_xml()`, `.inbound` and `.warnings`.
    """
    from apis.policy_validation import policy_environment
    from gateway.policies import PolicyError, effective_document

    env = policy_environment()
    product_docs = [product.policy_xml] if product is not None else []
    global_xml = GlobalPolicy.objects.order_by("pk").values_list("policy_xml", flat=True).first()
    try:
        effective = effective_document(
            env.resolve(api.policy_xml),
            [env.resolve(x) for x in product_docs],
            env.resolve(global_xml or ""),
        )
    except PolicyError as exc:
        raise PolicyError(env.describe(exc)) from None
    return RedactedEffective(effective, env)


class RedactedEffective:
    """An effective policy for pages: named values resolved, secret values shown as `{{name}}`."""

    def __init__(self, effective, env) -> None:
        self.effective, self.env = effective, env

    @property
    def inbound(self):
        return self.effective.inbound

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.env.redact(w) for w in self.effective.warnings)

    def to_xml(self) -> str:
        return self.env.redact(self.effective.to_xml())


def effective_policies(api: Api) -> list[EffectiveVariant]:
    """The API's effective policy for each of its products' subscribers, then without a product."""
    from gateway.policies import PolicyError

    variants = []
    for product in [*api.products.order_by("id"), None]:
        applies_to = (
            NO_PRODUCT_APPLIES_TO
            if product is None
            else f"subscribers of product {product.display_name} ({product.name})"
        )
        try:
            variants.append(EffectiveVariant(product, applies_to, effective_policy(api, product)))
        except PolicyError as error:
            variants.append(EffectiveVariant(product, applies_to, None, str(error)))
    return variants


def api_list(*, search: str = "") -> QuerySet[Api]:
    qs = Api.objects.prefetch_related("products", "gateways")
    if search:
        qs = qs.filter(display_name__icontains=search) | qs.filter(url_suffix__icontains=search)
    return qs.order_by("display_name")


def subscriptions_of(user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(owner=user).select_related("product", "api")


# How the owner's pages order subscriptions: working ones first, finished ones (cancelled,
# rejected, expired) last; newest first within each group.
_FINISHED_STATES = (
    Subscription.State.CANCELLED,
    Subscription.State.REJECTED,
    Subscription.State.EXPIRED,
)


def subscriptions_for_owner_page(user) -> QuerySet[Subscription]:
    from django.db.models import Case, IntegerField, Value, When

    finished = Case(
        When(state__in=_FINISHED_STATES, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return subscriptions_of(user).order_by(finished, "-created_at", "-pk")


# Publisher pages (added for the publisher area) -------------------------------------------------


def product_list(*, search: str = "") -> QuerySet[Product]:
    qs = Product.objects.prefetch_related("apis", "groups")
    if search:
        qs = qs.filter(display_name__icontains=search)
    return qs.order_by("display_name")


def gateway_list() -> QuerySet[Gateway]:
    return Gateway.objects.prefetch_related("apis").order_by("name")


def subscription_list(*, state: str = "", product: Product | None = None) -> QuerySet[Subscription]:
    qs = Subscription.objects.select_related("owner", "product", "api")
    if state:
        qs = qs.filter(state=state)
    if product is not None:
        qs = qs.filter(product=product)
    return qs.order_by("-created_at", "-pk")


def api_subscriptions(api: Api) -> QuerySet[Subscription]:
    """The subscriptions scoped to exactly this API (deleted along with it)."""
    return Subscription.objects.filter(api=api).select_related("owner").order_by("pk")


def count_awaiting_approval() -> int:
    return Subscription.objects.filter(state=Subscription.State.SUBMITTED).count()


# Developer portal (added for the portal area) ---------------------------------------------------

PORTAL_GUESTS_GROUP = "Guests"
PORTAL_DEVELOPERS_GROUP = "Developers"
PORTAL_ADMINISTRATORS_GROUP = "Administrators"


def _sees_every_product(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or user.groups.filter(name=PORTAL_ADMINISTRATORS_GROUP).exists()


def portal_products(user, *, search: str = "") -> QuerySet[Product]:
    """Published products this visitor may see: by group (Guests for anonymous visitors,
    Developers and their own groups for signed-in users); staff and Administrators see all."""
    qs = Product.objects.filter(state=Product.State.PUBLISHED)
    if not _sees_every_product(user):
        if getattr(user, "is_authenticated", False):
            visible = Q(groups__name=PORTAL_DEVELOPERS_GROUP) | Q(groups__user=user)
        else:
            visible = Q(groups__name=PORTAL_GUESTS_GROUP)
        qs = qs.filter(pk__in=Product.objects.filter(visible).values("pk"))
    if search:
        qs = qs.filter(Q(display_name__icontains=search) | Q(description__icontains=search))
    return qs.prefetch_related("apis").order_by("display_name")


def portal_apis(user, *, search: str = "") -> QuerySet[Api]:
    """APIs this visitor may see: those in at least one product visible to them."""
    qs = Api.objects.filter(products__in=portal_products(user).values("pk")).distinct()
    if search:
        qs = qs.filter(
            Q(display_name__icontains=search)
            | Q(description__icontains=search)
            | Q(url_suffix__icontains=search)
        )
    return qs.order_by("display_name")


def subscriptions_granting(user, api: Api) -> QuerySet[Subscription]:
    """The user's active subscriptions whose keys open this API (all APIs, its product, itself)."""
    if not getattr(user, "is_authenticated", False):
        return Subscription.objects.none()
    grants = (
        Q(scope=Subscription.Scope.ALL_APIS)
        | Q(scope=Subscription.Scope.API, api=api)
        | Q(scope=Subscription.Scope.PRODUCT, product__in=api.products.values("pk"))
    )
    return (
        Subscription.objects.filter(grants, owner=user, state=Subscription.State.ACTIVE)
        .select_related("product", "api")
        .order_by("created_at", "pk")
    )


def subscriptions_opening(api: Api) -> QuerySet[Subscription]:
    """Every active subscription, whoever owns it, whose keys open this API (publisher console)."""
    grants = (
        Q(scope=Subscription.Scope.ALL_APIS)
        | Q(scope=Subscription.Scope.API, api=api)
        | Q(scope=Subscription.Scope.PRODUCT, product__in=api.products.values("pk"))
    )
    return (
        Subscription.objects.filter(grants, state=Subscription.State.ACTIVE)
        .select_related("owner", "product", "api")
        .order_by("display_name", "pk")
    )


# Management REST API (added for the API area) ---------------------------------------------------

# A gateway that has not sent a heartbeat (every 30 s) for this long is reported offline.
GATEWAY_ONLINE_SECONDS = 90


def management_apis() -> QuerySet[Api]:
    return Api.objects.prefetch_related("products", "gateways").order_by("name")


def management_products() -> QuerySet[Product]:
    return Product.objects.prefetch_related("apis").order_by("name")


def management_gateways() -> QuerySet[Gateway]:
    return Gateway.objects.prefetch_related("apis").order_by("name")


def management_subscriptions(user) -> QuerySet[Subscription]:
    """Every subscription for a publisher; only their own for anyone else."""
    from apis.permissions import is_publisher

    qs = Subscription.objects.select_related("owner", "product", "api")
    qs = qs.order_by("-created_at", "-pk")
    return qs if is_publisher(user) else qs.filter(owner=user)


def management_users():
    from django.contrib.auth import get_user_model
    from django.db.models import Prefetch

    subscriptions = Subscription.objects.select_related("product", "api").order_by("pk")
    return (
        get_user_model()
        .objects.prefetch_related(Prefetch("subscriptions", queryset=subscriptions))
        .order_by("username")
    )


def global_policy() -> GlobalPolicy:
    """The All APIs policy row, or an unsaved empty one."""
    return GlobalPolicy.objects.order_by("pk").first() or GlobalPolicy()


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """One node of a gateway as its workers' latest heartbeats describe it."""

    node_id: str
    hostname: str
    version: str
    revision: int
    revision_current: bool
    workers: int  # as the node was started (run_gateway --workers)
    workers_reporting: int
    open_connections: int
    last_error: str
    last_seen_at: datetime
    online: bool


def gateway_nodes(gateway: Gateway, now: datetime | None = None) -> list[NodeSummary]:
    """The gateway's nodes, online first; a node is online while a worker reported within
    NODE_ONLINE_SECONDS, and its figures add up the workers that did."""
    from datetime import timedelta

    from django.utils import timezone

    from apis.services import NODE_ONLINE_SECONDS

    fresh_after = (now or timezone.now()) - timedelta(seconds=NODE_ONLINE_SECONDS)
    current = catalog_revision()
    by_node: dict[str, list] = {}
    for row in gateway.nodes.order_by("node_id", "-last_seen_at"):
        by_node.setdefault(row.node_id, []).append(row)
    summaries = []
    for node_id, rows in by_node.items():
        fresh = [r for r in rows if r.last_seen_at >= fresh_after] or rows[:1]
        latest = rows[0]
        errors = [r.last_error for r in fresh if r.last_error]
        summaries.append(
            NodeSummary(
                node_id=node_id,
                hostname=latest.hostname,
                version=latest.version,
                revision=min(r.revision for r in fresh),
                revision_current=all(r.revision == current for r in fresh),
                workers=latest.workers,
                workers_reporting=len(fresh) if latest.last_seen_at >= fresh_after else 0,
                open_connections=sum(r.open_connections for r in fresh),
                last_error=errors[0] if errors else "",
                last_seen_at=latest.last_seen_at,
                online=latest.last_seen_at >= fresh_after,
            )
        )
    return sorted(summaries, key=lambda n: (not n.online, n.node_id))


def gateway_status(gateway: Gateway, now: datetime | None = None) -> str:
    """Online when a node reported within GATEWAY_ONLINE_SECONDS, offline, or never seen."""
    from django.utils import timezone

    if gateway.last_seen_at is None:
        return "never seen"
    age = ((now or timezone.now()) - gateway.last_seen_at).total_seconds()
    return "online" if age <= GATEWAY_ONLINE_SECONDS else "offline"


def access_tokens_of(user):
    from apis.models import PersonalAccessToken

    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-pk")


def access_token_for(secret: str):
    """The token whose hash matches `secret` (lookup by hash: no timing on the secret), or None."""
    from apis.models import PersonalAccessToken, hash_token

    return (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=hash_token(secret))
        .first()
    )
