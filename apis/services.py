"""All writes to the catalog: keyword-only, typed, atomic, validated with full_clean()."""

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apis.models import (
    BUILTIN_GATEWAY_NAME,
    Api,
    Gateway,
    GatewayNode,
    GlobalPolicy,
    NamedValue,
    PolicyFragment,
    Product,
    Subscription,
    generate_node_token,
    generate_secret,
    hash_node_token,
)

State = Subscription.State

# Which states each lifecycle action may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({State.SUBMITTED}), State.ACTIVE),
    "reject": (frozenset({State.SUBMITTED}), State.REJECTED),
    "suspend": (frozenset({State.ACTIVE}), State.SUSPENDED),
    "reactivate": (frozenset({State.SUSPENDED}), State.ACTIVE),
    "cancel": (frozenset({State.SUBMITTED, State.ACTIVE, State.SUSPENDED}), State.CANCELLED),
    "expire": (frozenset({State.ACTIVE, State.SUSPENDED}), State.EXPIRED),
}

_API_FIELDS = {
    "display_name",
    "name",
    "description",
    "backend_url",
    "url_scheme",
    "url_suffix",
    "subscription_required",
    "subscription_key_header",
    "subscription_key_query",
    "policy_xml",
    "max_message_bytes",
    "idle_timeout_seconds",
    "max_duration_seconds",
    "max_connections_per_subscription",
    "asyncapi_contract",
}
_PRODUCT_FIELDS = {
    "display_name",
    "name",
    "description",
    "state",
    "subscription_required",
    "approval_required",
    "subscriptions_limit",
    "max_connections_per_subscription",
    "legal_terms",
    "policy_xml",
}
_GATEWAY_FIELDS = {
    "name",
    "description",
    "location_name",
    "location_city",
    "location_district",
    "location_country",
    "kind",
}


def _assign(instance, allowed: set[str], values: dict) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"unknown field(s) for {type(instance).__name__}: {sorted(unknown)}")
    for field, value in values.items():
        setattr(instance, field, value)


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
    _assign(gateway, _GATEWAY_FIELDS, fields)
    gateway.full_clean()
    gateway.save()
    return gateway


@transaction.atomic
def update_gateway(*, gateway: Gateway, **fields) -> Gateway:
    _assign(gateway, _GATEWAY_FIELDS, fields)
    gateway.full_clean()
    gateway.save()
    return gateway


@transaction.atomic
def regenerate_gateway_token(*, gateway: Gateway, which: str = "primary") -> str:
    """Give the gateway a new node token and return it: only its hash is stored, so this is
    the one moment it can be shown. Nodes still using the old token are refused from now on."""
    if which not in ("primary", "secondary"):
        raise ValueError("which must be 'primary' or 'secondary'")
    token = generate_node_token()
    setattr(gateway, f"{which}_token_hash", hash_node_token(token))
    gateway.full_clean()
    gateway.save(update_fields=[f"{which}_token_hash", "updated_at"])
    return token


NODE_ONLINE_SECONDS = 30  # three missed heartbeats (every 10 s) and a node is shown as stale
NODE_FORGET_SECONDS = 24 * 3600  # a node silent this long leaves the list
_NODE_FIELDS = ("hostname", "version", "revision", "workers", "open_connections", "last_error")


def record_gateway_heartbeat(*, name: str, node_count: int, version: str) -> None:
    """Mark a gateway as seen now; an update() so it does not bump the catalog revision."""
    Gateway.objects.filter(name=name).update(
        last_seen_at=timezone.now(), node_count=node_count, node_version=version[:50]
    )


@transaction.atomic
def record_node_heartbeat(*, gateway_name: str, report: dict) -> GatewayNode | None:
    """Store one gateway process's heartbeat (see gateway.heartbeat for the fields).

    Rows of the same node from workers that stopped reporting are removed (a restarted worker
    has a new pid), as are nodes silent for a day. Plain updates, so no catalog revision bump."""
    gateway = Gateway.objects.filter(name=gateway_name).first()
    if gateway is None:
        return None
    now = timezone.now()
    values = {field: report[field] for field in _NODE_FIELDS if field in report}
    if report.get("started_at"):
        values["started_at"] = report["started_at"]
    node, _ = GatewayNode.objects.update_or_create(
        gateway=gateway,
        node_id=report["node_id"],
        worker=report["worker"],
        defaults={**values, "last_seen_at": now},
    )
    stale = now - timedelta(seconds=NODE_ONLINE_SECONDS)
    GatewayNode.objects.filter(
        gateway=gateway, node_id=node.node_id, last_seen_at__lt=stale
    ).delete()
    GatewayNode.objects.filter(
        gateway=gateway, last_seen_at__lt=now - timedelta(seconds=NODE_FORGET_SECONDS)
    ).delete()
    online = (
        GatewayNode.objects.filter(gateway=gateway, last_seen_at__gte=stale)
        .values("node_id")
        .distinct()
        .count()
    )
    record_gateway_heartbeat(name=gateway.name, node_count=online, version=node.version)
    return node


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
    _assign(api, _API_FIELDS, fields)
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
    _assign(api, _API_FIELDS, fields)
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
    _assign(product, _PRODUCT_FIELDS, fields)
    product.full_clean()
    product.save()
    product.apis.set(list(apis))
    product.groups.set(list(groups))
    return product


@transaction.atomic
def update_product(
    *, product: Product, apis: Iterable[Api] | None = None, groups=None, **fields
) -> Product:
    _assign(product, _PRODUCT_FIELDS, fields)
    product.full_clean()
    product.save()
    if apis is not None:
        product.apis.set(list(apis))
    if groups is not None:
        product.groups.set(list(groups))
    return product


class InUse(Exception):
    """A delete refused because other rows depend on the object (the caller may force it)."""


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


# Named values and policy fragments --------------------------------------------------------------


def _in_use(what: str, docs) -> InUse:
    labels = ", ".join(doc.label for doc in docs)
    return InUse(f"{what} is used by {labels}: remove it from them first")


@transaction.atomic
def create_named_value(
    *, name: str, value: str = "", secret: bool = False, description: str = ""
) -> NamedValue:
    """A new `{{name}}`; a secret's value is encrypted before it is stored."""
    named = NamedValue(name=name, description=description)
    if secret:
        named.set_secret_value(value)
    else:
        named.value = value
    named.full_clean()
    named.save()
    return named


@transaction.atomic
def update_named_value(
    *,
    named_value: NamedValue,
    value: str | None = None,
    secret: bool | None = None,
    description: str | None = None,
) -> NamedValue:
    """Change a named value; every policy using it is checked with the new value first, and
    recompiled on every node (the catalog revision changes). For a secret, `value=None` keeps
    the stored one: it is never read back to be edited."""
    from apis.policy_validation import check_users, policy_environment, users

    named = named_value
    if description is not None:
        named.description = description
    becomes_secret = named.secret if secret is None else secret
    if named.secret and not becomes_secret and value is None:
        raise ValidationError({"value": "Enter the value: a secret's value is never shown."})
    if value is None:
        value = None if named.secret else named.value
    if becomes_secret:
        if value is not None:
            named.set_secret_value(value)
    else:
        named.secret, named.value, named.encrypted_value = False, value, ""
    named.full_clean()
    if value is not None:
        env = policy_environment(values={named.name: value})
        check_users(users(named_value=named.name), env, field="value")
    named.save()
    return named


@transaction.atomic
def delete_named_value(*, named_value: NamedValue) -> None:
    from apis.policy_validation import users

    using = users(named_value=named_value.name)
    if using:
        raise _in_use(f"named value '{named_value.name}'", using)
    named_value.delete()


@transaction.atomic
def create_policy_fragment(*, name: str, xml: str, description: str = "") -> PolicyFragment:
    fragment = PolicyFragment(name=name, xml=xml, description=description)
    fragment.full_clean()
    fragment.save()
    return fragment


@transaction.atomic
def update_policy_fragment(
    *, fragment: PolicyFragment, xml: str | None = None, description: str | None = None
) -> PolicyFragment:
    """Change a fragment; every policy including it is checked first, then recompiled on every
    node (the catalog revision changes)."""
    from apis.policy_validation import check_users, policy_environment, users

    if description is not None:
        fragment.description = description
    if xml is not None:
        fragment.xml = xml
    fragment.full_clean()
    if xml is not None:
        env = policy_environment(fragments={fragment.name: xml})
        check_users(users(fragment=fragment.name), env, field="xml", skip=fragment.name)
    fragment.save()
    return fragment


@transaction.atomic
def delete_policy_fragment(*, fragment: PolicyFragment) -> None:
    from apis.policy_validation import users

    using = users(fragment=fragment.name)
    if using:
        raise _in_use(f"policy fragment '{fragment.name}'", using)
    fragment.delete()


# Subscriptions ----------------------------------------------------------------------------------


@transaction.atomic
def create_subscription(
    *,
    display_name: str,
    owner: AbstractBaseUser | None = None,
    scope: str = Subscription.Scope.PRODUCT,
    product: Product | None = None,
    api: Api | None = None,
    state: str | None = None,
    expiration_date=None,
) -> Subscription:
    """Subscribe; a product that requires approval starts the subscription as submitted."""
    if product is not None and owner is not None and product.subscriptions_limit is not None:
        # Lock the owner's rows so two concurrent requests cannot both pass the limit.
        held = (
            Subscription.objects.select_for_update()
            .filter(owner=owner, product=product)
            .exclude(state__in=[State.CANCELLED, State.REJECTED, State.EXPIRED])
            .count()
        )
        if held >= product.subscriptions_limit:
            raise ValidationError(
                {
                    "product": f"You already hold {held} subscription(s) to "
                    f"{product.display_name}, its limit per user."
                }
            )
    if state is None:
        needs_approval = product is not None and product.approval_required
        state = State.SUBMITTED if needs_approval else State.ACTIVE
    subscription = Subscription(
        display_name=display_name,
        owner=owner,
        scope=scope,
        product=product,
        api=api,
        state=state,
        expiration_date=expiration_date,
    )
    if state == State.ACTIVE:
        subscription.start_date = timezone.now()
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def change_subscription_state(
    *, subscription: Subscription, action: str, comment: str = ""
) -> Subscription:
    """Apply a lifecycle action (approve, reject, suspend, reactivate, cancel, expire)."""
    try:
        allowed_from, target = TRANSITIONS[action]
    except KeyError:
        raise ValueError(f"unknown subscription action {action!r}") from None
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.state not in allowed_from:
        raise ValidationError(
            {
                "state": f"A {subscription.get_state_display().lower()} subscription cannot be "
                f"{_past_tense(action)}."
            }
        )
    now = timezone.now()
    subscription.state = target
    subscription.state_comment = comment
    if target == State.ACTIVE and subscription.start_date is None:
        subscription.start_date = now
    if target in (State.CANCELLED, State.EXPIRED, State.REJECTED):
        subscription.end_date = now
    subscription.full_clean()
    subscription.save()
    return subscription


def _past_tense(action: str) -> str:
    return {"reactivate": "reactivated", "expire": "expired", "approve": "approved"}.get(
        action, action + "ed"
    )


def approve_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="approve", comment=comment)


def reject_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="reject", comment=comment)


def suspend_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="suspend", comment=comment)


def reactivate_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(
        subscription=subscription, action="reactivate", comment=comment
    )


def cancel_subscription(*, subscription: Subscription, comment: str = "") -> Subscription:
    return change_subscription_state(subscription=subscription, action="cancel", comment=comment)


@transaction.atomic
def regenerate_subscription_key(*, subscription: Subscription, which: str) -> Subscription:
    """Replace exactly one key; the old one stops working on the next handshake."""
    if which not in ("primary", "secondary"):
        raise ValueError("which must be 'primary' or 'secondary'")
    field = f"{which}_key"
    setattr(subscription, field, generate_secret())
    subscription.full_clean()
    subscription.save(update_fields=[field, "updated_at"])
    return subscription


@transaction.atomic
def rename_subscription(*, subscription: Subscription, display_name: str) -> Subscription:
    subscription.display_name = display_name
    subscription.full_clean()
    subscription.save(update_fields=["display_name", "updated_at"])
    return subscription


# Publisher pages (added for the publisher area) -------------------------------------------------


@transaction.atomic
def set_gateway_apis(*, gateway: Gateway, apis: Iterable[Api]) -> Gateway:
    """Make `apis` exactly the APIs this gateway serves."""
    gateway.apis.set(list(apis))
    return gateway


@transaction.atomic
def ensure_publisher_console_subscription(*, user: AbstractBaseUser) -> Subscription:
    """The publisher's built-in all-access subscription for the test console, made on demand."""
    existing = (
        Subscription.objects.select_for_update()
        .filter(owner=user, is_builtin_all_access=True, state=State.ACTIVE)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing
    subscription = Subscription(
        display_name=f"Built-in all-access ({user.get_username()})"[:100],
        owner=user,
        scope=Subscription.Scope.ALL_APIS,
        state=State.ACTIVE,
        start_date=timezone.now(),
        is_builtin_all_access=True,
    )
    subscription.full_clean()
    subscription.save()
    return subscription


# Gateway removal (management API) ---------------------------------------------------------------


@transaction.atomic
def delete_gateway(*, gateway: Gateway) -> None:
    if gateway.is_builtin:
        raise ValidationError({"name": "The built-in managed gateway cannot be deleted."})
    gateway.delete()


# Personal access tokens (management API) --------------------------------------------------------

TOKEN_TOUCH_SECONDS = 60  # last_used_at is written at most once a minute per token


@transaction.atomic
def create_access_token(*, user: AbstractBaseUser, name: str, expires_at=None):
    """Create a token; returns (token, secret). Only the hash is stored: show the secret once."""
    from apis.models import PersonalAccessToken, hash_token

    secret = PersonalAccessToken.new_secret()
    token = PersonalAccessToken(
        user=user,
        name=name,
        token_prefix=secret[:12],
        token_hash=hash_token(secret),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def revoke_access_token(*, token) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def touch_access_token(*, token) -> None:
    """Record a use, at most once a minute (a conditional update, no read-modify-write)."""
    from datetime import timedelta

    from django.db.models import Q

    from apis.models import PersonalAccessToken

    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < TOKEN_TOUCH_SECONDS:
        return
    stale = now - timedelta(seconds=TOKEN_TOUCH_SECONDS)
    PersonalAccessToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
