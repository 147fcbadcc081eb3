"""The plain-data view of the catalog that one gateway serves: its APIs, the products and
subscriptions reaching them (keys only as keyed hashes), and their resolved policies."""

import logging
import re
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from apis.asyncapi.contract import has_contract, message_schemas
from apis.models import (
    Api,
    CatalogRevision,
    Certificate,
    Gateway,
    GlobalPolicy,
    NamedValue,
    Product,
    Subscription,
)
from gateway.catalog.broker_credentials import CredentialsProblem, read_credentials
from gateway.catalog.contract import (  # noqa: F401 - the contract, re-exported for callers
    ApiEntry,
    GatewayCatalog,
    HostnameEntry,
    ProductEntry,
    SubscriptionEntry,
    subscription_key_hash,
)
from gateway.catalog.eventsource import EventSource, SourceError, backend_kind, read_source

log = logging.getLogger("portico.portal")

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
    for api in (
        gateway.apis.prefetch_related("products")
        .select_related("backend_ca_certificate")
        .order_by("id")
    ):
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
                source=_event_source(api),
                backend_ca_pem=(
                    api.backend_ca_certificate.chain_pem if api.backend_ca_certificate else ""
                ),
                backend_secrets=broker_secrets(api.backend_url),
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
        secret_values=tuple(
            sorted({*resolve.secret_values, *(v for a in apis for _, v in a.backend_secrets)})
        ),
        hostnames=gateway_hostnames(gateway),
        **client_trust(),
        backend_certificates=backend_certificates(
            [resolved_global, *(a.policy_xml for a in apis), *(p.policy_xml for p in products)]
        ),
    )


AUTHENTICATION_CERTIFICATE = re.compile(
    r"<authentication-certificate\b[^>]*\bcertificate-id\s*=\s*[\"']([^\"']+)[\"']"
)


def backend_certificates(documents: list[str]) -> tuple[tuple[str, str, str], ...]:
    """(name, chain, key) of the certificates these policies present to backends: keys are
    decrypted for the gateway whose policies name them, and no other."""
    names = {m for xml in documents for m in AUTHENTICATION_CERTIFICATE.findall(xml or "")}
    if not names:
        return ()
    rows = Certificate.objects.filter(name__in=names).exclude(encrypted_key="").order_by("name")
    return tuple((c.name, c.chain_pem, c.private_key_pem()) for c in rows)


def client_trust() -> dict[str, str]:
    """The CA certificates of the catalog (those without a key) and their CRLs: public data
    every gateway may hold."""
    rows = Certificate.objects.filter(encrypted_key="").order_by("name")
    return {
        "client_ca_pem": "".join(c.chain_pem for c in rows),
        "client_crl_pem": "".join(c.crl_pem for c in rows if c.crl_pem),
    }


def gateway_hostnames(gateway: Gateway) -> tuple[HostnameEntry, ...]:
    """The gateway's host names with their certificates; private keys decrypted here, for
    this gateway's nodes only."""
    entries = []
    for row in gateway.hostnames.select_related("certificate").order_by("hostname"):
        cert = row.certificate
        entries.append(
            HostnameEntry(
                hostname=row.hostname,
                certificate_name=cert.name if cert else "",
                certificate_pem=cert.chain_pem if cert else "",
                key_pem=cert.private_key_pem() if cert else "",
                not_after=cert.not_after if cert else None,
                negotiate_client_certificate=row.negotiate_client_certificate,
            )
        )
    return tuple(entries)


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


def broker_secrets(backend_url: str) -> tuple[tuple[str, str], ...]:
    """(name, clear value) of the named values a broker URL refers to for its password or
    token, decrypted for the gateway that serves the API and no other. A name the catalog no
    longer has is left out: the gateway then refuses the handshakes rather than connect
    without it."""
    if "{{" not in backend_url:
        return ()
    try:
        names = read_credentials(backend_url).names
    except CredentialsProblem:
        return ()  # a row written around the checks: the gateway refuses it the same way
    rows = NamedValue.objects.filter(name__in=names).order_by("name")
    return tuple((row.name, row.resolved_value()) for row in rows)


def _event_source(api) -> EventSource | None:
    """The API's checked `source` object (None: a WebSocket backend, or a row that no longer
    passes the checks: the gateway then refuses its handshakes rather than guess)."""
    try:
        return read_source(backend_kind(api.backend_url), api.source)
    except SourceError:
        return None
