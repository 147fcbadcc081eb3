"""The catalog's typed models, one per object of the management API (see /api/schema/)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portico_client.model import Model


@dataclass
class Api(Model):
    id: int
    name: str
    display_name: str
    description: str
    backend_url: str
    url_scheme: str
    url_suffix: str
    subscription_required: bool
    subscription_key_header: str
    subscription_key_query: str
    max_message_bytes: int
    idle_timeout_seconds: int
    max_duration_seconds: int
    max_connections_per_subscription: int | None
    products: list[str]
    gateways: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass
class Product(Model):
    id: int
    name: str
    display_name: str
    description: str
    state: str
    subscription_required: bool
    approval_required: bool
    subscriptions_limit: int | None
    max_connections_per_subscription: int | None
    legal_terms: str
    apis: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass
class Gateway(Model):
    id: int
    name: str
    description: str
    kind: str
    location_name: str
    location_city: str
    location_district: str
    location_country: str
    apis: list[str]
    status: str
    last_seen_at: datetime | None
    node_count: int
    node_version: str
    created_at: datetime
    updated_at: datetime


@dataclass
class GatewayNode(Model):
    node_id: str
    hostname: str
    version: str
    revision: int
    revision_current: bool
    workers: int
    workers_reporting: int
    open_connections: int
    last_error: str
    last_seen_at: datetime | None
    online: bool


@dataclass
class NewGatewayToken(Model):
    """A node token, shown once: `value` to configure, `commands` to start a node with."""

    gateway: str
    token: str
    value: str
    commands: str


@dataclass
class Subscription(Model):
    """Keys are masked here; `subscriptions.list_secrets(id)` reads them (audited)."""

    id: int
    display_name: str
    owner: str | None
    scope: str
    product: str | None
    api: str | None
    state: str
    state_comment: str
    primary_key: str
    secondary_key: str
    created_at: datetime
    start_date: datetime | None
    expiration_date: datetime | None
    end_date: datetime | None
    updated_at: datetime


@dataclass
class SubscriptionSecrets(Model):
    primary_key: str
    secondary_key: str


@dataclass
class ConnectTicket(Model):
    """A single-use ticket (at most 60 s); `url` connects with it."""

    ticket: str
    url: str
    expires_at: datetime
    api: str
    gateway: str
    origin: str


@dataclass
class UserSubscription(Model):
    id: int
    display_name: str
    scope: str
    product: str | None
    api: str | None
    state: str


@dataclass
class User(Model):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime | None
    last_login: datetime | None
    subscriptions: list[UserSubscription]


@dataclass
class NamedValue(Model):
    """A secret's `value` is never sent back (None)."""

    name: str
    description: str
    secret: bool
    value: str | None
    used_by: list[Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class Certificate(Model):
    """A certificate in the catalog; its private key is never sent back."""

    name: str
    subject: str
    issuer: str
    thumbprint: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    dns_names: list[str]
    has_private_key: bool
    has_crl: bool
    expiry: str  # expired, expiring (within 30 days) or valid
    hostnames: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass
class PolicyFragment(Model):
    name: str
    description: str
    xml: str
    used_by: list[Any]
    created_at: datetime
    updated_at: datetime


@dataclass
class Policy(Model):
    policy_xml: str
    updated_at: datetime | None


@dataclass
class ProductEffectivePolicy(Model):
    applies_to: str
    policy_xml: str
    warnings: list[str]
    error: str
    product: str


@dataclass
class EffectivePolicy(Model):
    """The policy a connection of the API runs; one per product, since only its own applies."""

    applies_to: str
    policy_xml: str
    warnings: list[str]
    error: str
    products: list[ProductEffectivePolicy]


@dataclass
class CatalogApplyResult(Model):
    created: list[str]
    updated: list[str]
