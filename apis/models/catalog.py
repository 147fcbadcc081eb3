"""Catalog models: gateways, WebSocket APIs, products, the global policy and the catalog
revision, with the fields publishers edit."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from apis.models.keys import generate_secret, unusable_token_hash
from apis.models.library import check_broker_url_values, check_policy_document
from apis.validators import (
    backend_kind,
    check_event_source,
    validate_backend_url,
    validate_header_name,
    validate_query_param_name,
    validate_url_suffix,
)

BUILTIN_GATEWAY_NAME = "managed"
DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_KEY_QUERY = "subscription-key"


# The fields publishers edit, each list written once and in the order pages and the API show
# them: the services accept exactly these, the declarative catalog exports them, the
# serializers, forms and admin derive theirs from them.
API_FIELD_GROUPS = (
    ("", ("display_name", "name", "description")),
    ("Connection", ("backend_url", "source", "url_scheme", "url_suffix")),
    (
        "Subscription",
        ("subscription_required", "subscription_key_header", "subscription_key_query"),
    ),
    (
        "Limits",
        (
            "max_message_bytes",
            "idle_timeout_seconds",
            "max_duration_seconds",
            "max_connections_per_subscription",
        ),
    ),
)
API_EDITABLE_FIELDS = (
    *(name for _legend, names in API_FIELD_GROUPS for name in names),
    "policy_xml",
    "asyncapi_contract",
)
PRODUCT_EDITABLE_FIELDS = (
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
)
GATEWAY_EDITABLE_FIELDS = (
    "name",
    "description",
    "kind",
    "location_name",
    "location_city",
    "location_district",
    "location_country",
)


def underivable_name(display_name: str) -> dict[str, str]:
    """The error when no name is given and none can be made from the display name."""
    if display_name:
        return {
            "display_name": f"“{display_name}” has no letters or digits to make a name from: "
            "add some, or enter a name yourself."
        }
    return {"name": "Enter a name or a display name to derive it from."}


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
        "WebSocket URL",
        max_length=2000,
        validators=[validate_backend_url],
        help_text="A WebSocket backend (ws://, wss://) or an event broker (redis://, rediss://, "
        "nats://, mqtt://, mqtts://).",
    )
    source = models.JSONField(
        "event source",
        default=dict,
        blank=True,
        help_text='An event broker\'s subscription, e.g. {"subscribe": "prices", "allow": [], '
        '"publish": null, "envelope": true}; empty for a WebSocket backend.',
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
    # Trusted for this API's wss:// backend instead of the system's CA store (a CA certificate
    # from the catalog; its private key, if any, is never sent for this).
    backend_ca_certificate = models.ForeignKey(
        "apis.Certificate",
        on_delete=models.PROTECT,
        related_name="trusted_by_apis",
        null=True,
        blank=True,
        help_text="Verify the wss:// backend against this CA instead of the system's store.",
    )
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
        check_policy_document(self.policy_xml, scope="api", field="policy_xml")
        check_event_source(self.backend_url, self.source)
        check_broker_url_values(self.backend_url)

    @property
    def backend_kind(self) -> str:
        """websocket, redis, nats or mqtt: what the backend URL's scheme names."""
        return backend_kind(self.backend_url or "")


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
        check_policy_document(self.policy_xml, scope="product", field="policy_xml")


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
        check_policy_document(self.policy_xml, scope="global", field="policy_xml")


class CatalogRevision(models.Model):
    """One value changed on every catalog write; gateways poll it to refresh their snapshot."""

    revision = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"revision {self.revision}"
