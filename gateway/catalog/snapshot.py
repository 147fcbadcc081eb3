"""The in-memory catalog a gateway process serves from: routes by URL suffix, keys by keyed hash.

Built from a `GatewayCatalog` (read from the database on a managed gateway, pulled from the
control plane on a self-hosted node) and swapped atomically when its revision changes, so a
handshake never queries anything in the steady state. Subscription keys are known here only as
HMAC-SHA256 under the gateway's key-hash secret, on both kinds of gateway.
"""

import hashlib
import hmac
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509

from gateway.catalog.contract import ApiEntry, GatewayCatalog, HostnameEntry, SubscriptionEntry
from gateway.catalog.eventsource import backend_kind
from gateway.server.tls import memory_file


def key_digest(secret: bytes, key: str) -> bytes:
    """A presented key's keyed hash, as `apis.selectors.subscription_key_hash` makes it."""
    return hmac.new(secret, key.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Route:
    """One API as this gateway serves it."""

    api: ApiEntry
    product_ids: frozenset[int]
    backend_url: str
    backend_path: str  # the backend URL's own path, without a trailing "/"
    backend_query: str
    accepts_ws: bool
    accepts_wss: bool
    # The compiled onHandshake policies by product id (None: no product), only non-empty ones.
    pipelines: dict = field(default_factory=dict)
    # Most open connections per subscription by product id (None: no product), only capped ones.
    connection_caps: dict = field(default_factory=dict)
    # redis, nats or mqtt for an event-source backend (gateway.sources); None for WebSocket.
    source_kind: str | None = None
    # How a wss:// backend is verified: the API's CA bundle, or None for the system's store.
    backend_tls: ssl.SSLContext | None = None

    def connection_cap(self, subscription: SubscriptionEntry) -> int | None:
        """The cap on this subscription's open connections here: the API's or its product's,
        whichever is smaller."""
        if subscription.scope == "product":
            return self.connection_caps.get(subscription.product_id)
        return self.connection_caps.get(None)

    def pipeline_for(self, subscription: SubscriptionEntry | None):
        """This handshake's policies: its subscription's product's, else the no-product ones."""
        if subscription is not None and subscription.scope == "product":
            return self.pipelines.get(subscription.product_id)
        return self.pipelines.get(None)


@dataclass(frozen=True, slots=True)
class Snapshot:
    revision: int
    gateway_found: bool
    routes: dict[str, Route] = field(default_factory=dict)
    subscriptions_by_key: dict[bytes, tuple[SubscriptionEntry, bytes]] = field(default_factory=dict)
    key_hash_secret: bytes = b""
    product_names: dict[int, str] = field(default_factory=dict)
    max_suffix_segments: int = 1
    # For revoking open connections when a new snapshot arrives (see gateway.node.revocation).
    routes_by_api: dict[int, Route] = field(default_factory=dict)
    subscriptions_by_id: dict[int, SubscriptionEntry] = field(default_factory=dict)
    ended_subscriptions: dict[int, str] = field(default_factory=dict)
    unpublished_products: frozenset[int] = frozenset()
    secret_headers: tuple[str, ...] = ()  # set or checked with secret named values
    secret_values: tuple[str, ...] = ()  # their clear values: redacted wherever they are logged
    # The gateway's host names (empty: every Host is served); TLS certificates come from here.
    hostnames: dict[str, HostnameEntry] = field(default_factory=dict)
    client_ca_pem: str = ""  # for the TLS layer (gateway.server.tls)
    client_cas: tuple = ()  # parsed, for validate-client-certificate
    client_crls: tuple = ()
    # authentication-certificate's certificates by name: (chain, key); their backend contexts
    # are made on first use and kept for this snapshot's life (one per API and certificate).
    backend_certificates: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _backend_contexts: dict = field(default_factory=dict, repr=False)

    def backend_tls(self, route: Route, certificate: str | None) -> ssl.SSLContext | None:
        """How to reach `route`'s wss:// backend, presenting `certificate` (a catalog name);
        KeyError when this gateway holds no such certificate."""
        if certificate is None:
            return route.backend_tls
        key = (route.api.id, certificate)
        found = self._backend_contexts.get(key)
        if found is None:
            chain, private_key = self.backend_certificates[certificate]
            found = client_tls_context(route.api.backend_ca_pem, chain, private_key)
            self._backend_contexts[key] = found
        return found

    def serves_host(self, host: str) -> bool:
        """Whether a request for `host` (the Host header, without its port) is this gateway's."""
        return not self.hostnames or host in self.hostnames

    def key_index(self, presented: str) -> bytes:
        """The `subscriptions_by_key` index of a presented key (never the key itself)."""
        return key_digest(self.key_hash_secret, presented)

    def find_route(self, path: str) -> tuple[Route, str] | None:
        """Longest suffix that matches whole leading segments of `path`; returns the path rest."""
        segments = path.lstrip("/").split("/")
        for count in range(min(len(segments), self.max_suffix_segments), 0, -1):
            route = self.routes.get("/".join(segments[:count]))
            if route is not None:
                rest = "/" + "/".join(segments[count:]) if count < len(segments) else ""
                return route, rest
        return None

    def find_subscription(self, presented: str) -> SubscriptionEntry | None:
        """The subscription whose key hashes like `presented`, confirmed in constant time."""
        return self.find_key(presented)[0]

    def find_key(self, presented: str) -> tuple[SubscriptionEntry | None, bytes]:
        """`find_subscription` and the key's index, from one keyed hash of `presented`."""
        digest = key_digest(self.key_hash_secret, presented)
        found = self.subscriptions_by_key.get(digest)
        if found is None or not hmac.compare_digest(found[1], digest):
            return None, digest
        return found[0], digest


def backend_tls_context(ca_pem: str) -> ssl.SSLContext | None:
    """A client context trusting only `ca_pem` (hostname checked), or None ("": system store).
    A bundle that does not load trusts nothing: the backend is refused (502), never unverified."""
    if not ca_pem:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cadata=ca_pem)
    except (ssl.SSLError, ValueError):
        pass
    return context


def client_tls_context(ca_pem: str, chain_pem: str, key_pem: str) -> ssl.SSLContext:
    """A backend context that verifies as `backend_tls_context` does (the system store when
    `ca_pem` is empty) and presents this chain and key."""
    context = backend_tls_context(ca_pem) or ssl.create_default_context()
    with memory_file(chain_pem) as certfile, memory_file(key_pem) as keyfile:
        context.load_cert_chain(certfile, keyfile)
    return context


def connection_caps(api: ApiEntry, products: dict) -> dict:
    """{product id or None: cap}: the smaller of the API's and the product's cap, where set."""
    caps = {}
    for product_id in (None, *api.product_ids):
        product = products.get(product_id)
        found = [api.max_connections, product.max_connections if product else None]
        found = [cap for cap in found if cap is not None]
        if found:
            caps[product_id] = min(found)
    return caps


def build_snapshot(catalog: GatewayCatalog, *, compile_pipeline=None) -> Snapshot:
    """Turn the catalog's plain data into lookup tables; compile policies once, here."""
    products = {p.id: p for p in catalog.products}
    routes: dict[str, Route] = {}
    for api in catalog.apis:
        backend = urlsplit(api.backend_url)
        pipelines = compile_pipeline(api, products, catalog) if compile_pipeline else {}
        routes[api.url_suffix] = Route(
            api=api,
            product_ids=frozenset(api.product_ids),
            backend_url=api.backend_url,
            backend_path=f"{backend.scheme}://{backend.netloc}{backend.path.rstrip('/')}",
            backend_query=backend.query,
            accepts_ws=api.url_scheme in ("ws", "both"),
            accepts_wss=api.url_scheme in ("wss", "both"),
            pipelines=pipelines,
            connection_caps=connection_caps(api, products),
            source_kind=backend_kind(api.backend_url) if api.source is not None else None,
            backend_tls=backend_tls_context(api.backend_ca_pem),
        )
    by_key: dict[bytes, tuple[SubscriptionEntry, bytes]] = {}
    for sub in catalog.subscriptions:
        for hexdigest in (sub.primary_key_hash, sub.secondary_key_hash):
            digest = bytes.fromhex(hexdigest)
            by_key[digest] = (sub, digest)
    return Snapshot(
        revision=catalog.revision,
        gateway_found=catalog.gateway_found,
        routes=routes,
        subscriptions_by_key=by_key,
        key_hash_secret=catalog.key_hash_secret.encode(),
        product_names={p.id: p.name for p in catalog.products},
        max_suffix_segments=max((s.count("/") + 1 for s in routes), default=1),
        routes_by_api={route.api.id: route for route in routes.values()},
        subscriptions_by_id={sub.id: sub for sub in catalog.subscriptions},
        ended_subscriptions=dict(catalog.ended_subscriptions),
        unpublished_products=frozenset(p.id for p in catalog.products if not p.published),
        secret_headers=catalog.secret_headers,
        secret_values=catalog.secret_values,
        hostnames={entry.hostname: entry for entry in catalog.hostnames},
        client_ca_pem=catalog.client_ca_pem,
        backend_certificates={n: (c, k) for n, c, k in catalog.backend_certificates},
        client_cas=_pem_list(catalog.client_ca_pem, x509.load_pem_x509_certificates),
        client_crls=tuple(
            x509.load_pem_x509_crl(block.encode())
            for block in _blocks(catalog.client_crl_pem, "X509 CRL")
        ),
    )


def _pem_list(text: str, load) -> tuple:
    if not text:
        return ()
    try:
        return tuple(load(text.encode()))
    except ValueError:
        return ()


def _blocks(text: str, label: str) -> list[str]:
    end = f"-----END {label}-----"
    return [part + end for part in text.split(end) if f"-----BEGIN {label}-----" in part]
