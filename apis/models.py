"""Catalog models: gateways, WebSocket APIs, products, subscriptions and the global policy."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from apis.validators import (
    validate_backend_url,
    validate_fragment_id,
    validate_header_name,
    validate_named_value_name,
    validate_query_param_name,
    validate_url_suffix,
)

BUILTIN_GATEWAY_NAME = "managed"
DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_KEY_QUERY = "subscription-key"


def underivable_name(display_name: str) -> dict[str, str]:
    """The error when no name is given and none can be made from the display name."""
    if display_name:
        return {
            "display_name": f"“{display_name}” has no letters or digits to make a name from: "
            "add some, or enter a name yourself."
        }
    return {"name": "Enter a name or a display name to derive it from."}


def generate_secret() -> str:
    """A random, url-safe secret of 256 bits (subscription keys, key-hash secrets)."""
    return secrets.token_urlsafe(32)


NODE_TOKEN_PREFIX = "pgw_"


def generate_node_token() -> str:
    """A gateway node token: recognisable by its prefix (secret scanners), 256 random bits."""
    return NODE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_node_token(token: str) -> str:
    """Node tokens are stored as SHA-256: they are long and random, so no slow hash is needed."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def unusable_token_hash() -> str:
    """The hash of a token nobody was shown: a new gateway has no usable token until one is
    generated on its page (which shows it once)."""
    return hash_node_token(generate_node_token())


class Gateway(models.Model):
    """A place that runs the data plane: the built-in managed one or a self-hosted node group."""

    class Kind(models.TextChoices):
        MANAGED = "managed", "Managed"
        SELF_HOSTED = "self_hosted", "Self-hosted"

    name = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    location_name = models.CharField("location", max_length=100, blank=True)
    location_city = models.CharField("city", max_length=100, blank=True)
    location_district = models.CharField("district", max_length=100, blank=True)
    location_country = models.CharField("country/region", max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SELF_HOSTED)
    primary_token_hash = models.CharField(
        max_length=64, unique=True, default=unusable_token_hash, editable=False
    )
    secondary_token_hash = models.CharField(
        max_length=64, unique=True, default=unusable_token_hash, editable=False
    )
    # Subscription keys reach this gateway's nodes only as HMAC-SHA256 under this secret.
    key_hash_secret = models.CharField(max_length=64, default=generate_secret, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    node_count = models.PositiveIntegerField(default=0)
    node_version = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.name == BUILTIN_GATEWAY_NAME


class Api(models.Model):
    """A WebSocket API: where clients connect on a gateway and which backend it proxies to."""

    class Scheme(models.TextChoices):
        WS = "ws", "WS"
        WSS = "wss", "WSS"
        BOTH = "both", "Both"

    display_name = models.CharField(max_length=100)
    name = models.SlugField(
        max_length=80,
        unique=True,
        blank=True,
        help_text="Left empty, derived from the display name.",
    )
    description = models.TextField(blank=True)
    backend_url = models.CharField(
        "WebSocket URL", max_length=2000, validators=[validate_backend_url]
    )
    url_scheme = models.CharField(
        "URL scheme", max_length=4, choices=Scheme.choices, default=Scheme.BOTH
    )
    url_suffix = models.CharField(
        "API URL suffix", max_length=200, unique=True, validators=[validate_url_suffix]
    )
    subscription_required = models.BooleanField(default=True)
    subscription_key_header = models.CharField(
        max_length=100, default=DEFAULT_KEY_HEADER, validators=[validate_header_name]
    )
    subscription_key_query = models.CharField(max_length=100, default=DEFAULT_KEY_QUERY)
    gateways = models.ManyToManyField(Gateway, related_name="apis", blank=True)
    policy_xml = models.TextField("onHandshake policy", blank=True)
    max_message_bytes = models.PositiveIntegerField(
        default=4 * 1024 * 1024, help_text="Largest message relayed either way; larger closes 1009."
    )
    idle_timeout_seconds = models.PositiveIntegerField(
        default=600, help_text="Close (1001) after this long without a message either way."
    )
    max_duration_seconds = models.PositiveIntegerField(
        default=7200, help_text="Close (1001) a connection open this long."
    )
    max_connections_per_subscription = models.PositiveIntegerField(
        "connections per subscription",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Most connections one subscription may hold open at once (counted over all its "
            "connections); empty for no cap. When the subscription's product sets a cap too, "
            "the smaller one wins."
        ),
    )
    asyncapi_contract = models.JSONField(
        "AsyncAPI contract",
        default=dict,
        blank=True,
        help_text="Channels and messages read from an AsyncAPI document (apis.asyncapi).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = "WebSocket API"

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if not self.name and self.display_name:
            self.name = slugify(self.display_name)[:80]
        if not self.name:
            raise ValidationError(underivable_name(self.display_name))
        if self.subscription_key_query:
            try:
                validate_query_param_name(self.subscription_key_query)
            except ValidationError as error:
                raise ValidationError({"subscription_key_query": error.messages}) from None
        # clean() runs even when clean_fields() failed, so the value may not be a number here.
        if isinstance(self.max_message_bytes, int) and self.max_message_bytes < 1:
            raise ValidationError({"max_message_bytes": "Must be at least 1 byte."})
        from apis.policy_validation import check_policy_document

        check_policy_document(self.policy_xml, scope="api", field="policy_xml")


class Product(models.Model):
    """A bundle of APIs that developers subscribe to, with visibility and approval rules."""

    class State(models.TextChoices):
        PUBLISHED = "published", "Published"
        NOT_PUBLISHED = "not_published", "Not published"

    display_name = models.CharField(max_length=100)
    name = models.SlugField(max_length=80, unique=True, blank=True)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NOT_PUBLISHED)
    subscription_required = models.BooleanField(default=True)
    approval_required = models.BooleanField(default=False)
    subscriptions_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Subscriptions one user may hold; empty for no limit."
    )
    max_connections_per_subscription = models.PositiveIntegerField(
        "connections per subscription",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Most connections one subscription may hold open at once, over all the product's "
            "APIs; empty for no cap. When an API sets its own cap, the smaller one wins."
        ),
    )
    legal_terms = models.TextField(blank=True)
    apis = models.ManyToManyField(Api, related_name="products", blank=True)
    groups = models.ManyToManyField(
        Group, related_name="visible_products", blank=True, help_text="Who may see the product."
    )
    policy_xml = models.TextField("onHandshake policy", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if not self.name and self.display_name:
            self.name = slugify(self.display_name)[:80]
        if not self.name:
            raise ValidationError(underivable_name(self.display_name))
        from apis.policy_validation import check_policy_document

        check_policy_document(self.policy_xml, scope="product", field="policy_xml")


class Subscription(models.Model):
    """Access to all APIs, one product or one API, proved by either of two keys."""

    class Scope(models.TextChoices):
        ALL_APIS = "all_apis", "All APIs"
        PRODUCT = "product", "Product"
        API = "api", "API"

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    display_name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        help_text="Empty for a standalone subscription.",
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.PRODUCT)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    api = models.ForeignKey(
        Api, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SUBMITTED)
    primary_key = models.CharField(max_length=64, unique=True, default=generate_secret)
    secondary_key = models.CharField(max_length=64, unique=True, default=generate_secret)
    is_builtin_all_access = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    start_date = models.DateTimeField(null=True, blank=True)
    expiration_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    state_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="subscription_scope_target",
                condition=(
                    Q(scope="all_apis", product__isnull=True, api__isnull=True)
                    | Q(scope="product", product__isnull=False, api__isnull=True)
                    | Q(scope="api", product__isnull=True, api__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="subscription_keys_differ", condition=~Q(primary_key=models.F("secondary_key"))
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        errors = {}
        if self.scope == self.Scope.PRODUCT and not self.product_id:
            errors["product"] = "A product-scoped subscription needs a product."
        if self.scope == self.Scope.API and not self.api_id:
            errors["api"] = "An API-scoped subscription needs an API."
        if self.scope != self.Scope.PRODUCT and self.product_id:
            errors["product"] = "Only a product-scoped subscription names a product."
        if self.scope != self.Scope.API and self.api_id:
            errors["api"] = "Only an API-scoped subscription names an API."
        if self.primary_key == self.secondary_key:
            errors["secondary_key"] = "The secondary key must differ from the primary key."
        others = Subscription.objects.exclude(pk=self.pk)
        if others.filter(
            Q(secondary_key=self.primary_key) | Q(primary_key=self.primary_key)
        ).exists():
            errors["primary_key"] = "This key is already in use."
        if others.filter(
            Q(primary_key=self.secondary_key) | Q(secondary_key=self.secondary_key)
        ).exists():
            errors["secondary_key"] = "This key is already in use."
        if errors:
            raise ValidationError(errors)


class GlobalPolicy(models.Model):
    """The "All APIs" scope: one onHandshake policy document inherited by every API."""

    policy_xml = models.TextField("onHandshake policy (All APIs)", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "global policy (All APIs)"
        verbose_name_plural = "global policy (All APIs)"

    def __str__(self) -> str:
        return "All APIs"

    def clean(self) -> None:
        from apis.policy_validation import check_policy_document

        check_policy_document(self.policy_xml, scope="global", field="policy_xml")


class NamedValue(models.Model):
    """A `{{name}}` policies use: plain text, or a secret kept encrypted and never shown."""

    name = models.CharField(
        max_length=256,
        unique=True,
        validators=[validate_named_value_name],
        help_text="Letters, digits, '.', '-' and '_'; policies write it as {{name}}.",
    )
    description = models.TextField(blank=True)
    secret = models.BooleanField(
        default=False, help_text="Stored encrypted; never shown again, only replaced."
    )
    value = models.TextField(blank=True, help_text="The value of a plain named value.")
    # Fernet token of a secret's value (apis.secretbox); empty for a plain one.
    encrypted_value = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.secret and self.value:
            raise ValidationError({"value": "A secret's value is stored encrypted, not here."})
        if "{{" in (self.value or ""):
            raise ValidationError({"value": "A named value cannot contain another ({{…}})."})

    def set_secret_value(self, clear: str) -> None:
        from apis import secretbox

        if "{{" in clear:
            raise ValidationError({"value": "A named value cannot contain another ({{…}})."})
        try:
            encrypted = secretbox.encrypt(clear)
        except secretbox.SecretsKeyError as exc:  # production without a key: say so, store nothing
            raise ValidationError({"secret": str(exc)}) from None
        self.secret, self.value, self.encrypted_value = True, "", encrypted

    def resolved_value(self) -> str:
        """The clear value (decrypted for a secret): for policies only, never for display."""
        if not self.secret:
            return self.value
        from apis import secretbox

        return secretbox.decrypt(self.encrypted_value) if self.encrypted_value else ""


class PolicyFragment(models.Model):
    """Policies written once and included with `<include-fragment fragment-id="…"/>`."""

    name = models.CharField(
        "fragment id",
        max_length=80,
        unique=True,
        validators=[validate_fragment_id],
        help_text="Letters, digits, '.', '-' and '_'.",
    )
    description = models.TextField(blank=True)
    xml = models.TextField(
        "fragment", help_text="<fragment> holding policy elements; may use {{named values}}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from apis.policy_validation import check_fragment

        check_fragment(self.xml, fragment_id=self.name, field="xml")


class GatewayNode(models.Model):
    """One gateway process as its last heartbeat described it (a node runs one or more)."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=100, help_text="PORTICO_NODE_ID, or host:port.")
    worker = models.CharField(max_length=40, help_text="The worker process (its pid).")
    hostname = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=50, blank=True)
    revision = models.PositiveBigIntegerField(default=0, help_text="Configuration it serves.")
    workers = models.PositiveIntegerField(default=1, help_text="Worker processes of the node.")
    open_connections = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["node_id", "worker"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "node_id", "worker"], name="gateway_node_worker"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway_id}/{self.node_id}/{self.worker}"


class CatalogRevision(models.Model):
    """One value changed on every catalog write; gateways poll it to refresh their snapshot."""

    revision = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"revision {self.revision}"


# Personal access tokens live in their own module; importing them here registers the model.
from apis.tokens import PersonalAccessToken, hash_token  # noqa: E402,F401
