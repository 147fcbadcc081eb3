"""The contract between the planes: the catalog a gateway serves, as plain frozen dataclasses.

The control plane (`apis.selectors.gateway_catalog`) builds a `GatewayCatalog`; the gateway
reads it from the database link or from JSON (`gateway.catalog.wire`). No Django here.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from gateway.catalog.eventsource import EventSource


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
    # An event-source backend's subscription and framing (None: a WebSocket backend).
    source: EventSource | None = None
    # CA certificates (PEM) a wss:// backend is verified against ("": the system's store).
    backend_ca_pem: str = ""
    # (name, clear value) of the secret named values an event broker's URL refers to for its
    # password or token: sent only to the nodes serving this API, filled in when the broker is
    # opened (gateway.sources.credentials), never logged.
    backend_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)


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
class HostnameEntry:
    """A public host name of the gateway and the certificate TLS serves on it (if any)."""

    hostname: str
    certificate_name: str = ""
    certificate_pem: str = ""  # the chain, leaf first
    # The private key in PEM: sent only to nodes of the gateway whose host name uses it (their
    # saved configuration is written 0600); never logged.
    key_pem: str = field(default="", repr=False)
    not_after: datetime | None = None
    negotiate_client_certificate: bool = False


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
    # The gateway's public host names (none: any Host is served, as before host names existed).
    hostnames: tuple[HostnameEntry, ...] = ()
    # The catalog's CA certificates (no keys) and their CRLs, in PEM: what client certificates
    # are checked against (TLS negotiation and validate-client-certificate).
    client_ca_pem: str = ""
    client_crl_pem: str = ""
    # Certificates that authentication-certificate policies of this gateway present to backends:
    # (name, chain PEM, key PEM); only those its policies name (keys never logged).
    backend_certificates: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)


def subscription_key_hash(secret: str, key: str) -> str:
    """The keyed hash a gateway knows a subscription key by (hex HMAC-SHA256).

    Keys never leave the control plane in clear: nodes receive and keep these hashes, and hash
    what a client presents the same way."""
    return hmac.new(
        secret.encode(), key.encode("utf-8", "surrogateescape"), hashlib.sha256
    ).hexdigest()
