"""The in-memory catalog a gateway process serves from: routes by URL suffix and keys by digest.

Built from `apis.selectors.gateway_catalog()` and swapped atomically when the catalog revision
changes, so a handshake never queries the database in the steady state.
"""

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from apis.selectors import ApiEntry, GatewayCatalog, SubscriptionEntry


def key_digest(key: str) -> bytes:
    """Index keys by digest: a dict lookup never compares a presented key with a stored one."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


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
    subscriptions_by_key: dict[bytes, tuple[SubscriptionEntry, str]] = field(default_factory=dict)
    product_names: dict[int, str] = field(default_factory=dict)
    max_suffix_segments: int = 1
    # For revoking open connections when a new snapshot arrives (see gateway.revocation).
    routes_by_api: dict[int, Route] = field(default_factory=dict)
    subscriptions_by_id: dict[int, SubscriptionEntry] = field(default_factory=dict)
    ended_subscriptions: dict[int, str] = field(default_factory=dict)
    unpublished_products: frozenset[int] = frozenset()

    def key_index(self, presented: str) -> bytes:
        """The `subscriptions_by_key` index of a presented key (never the key itself)."""
        return key_digest(presented)

    def find_route(self, path: str) -> tuple[Route, str] | None:
        """Longest suffix that matches whole leading segments of `path`; returns the path rest."""
        segments = path.lstrip("/").split("/")
        for count in range(min(len(segments), self.max_suffix_segments), 0, -1):
            route = self.routes.get("/".join(segments[:count]))
            if route is not None:
                rest = "/" + "/".join(segments[count:]) if count < len(segments) else ""
                return route, rest
        return None


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
        )
    by_key: dict[bytes, tuple[SubscriptionEntry, str]] = {}
    for sub in catalog.subscriptions:
        by_key[key_digest(sub.primary_key)] = (sub, sub.primary_key)
        by_key[key_digest(sub.secondary_key)] = (sub, sub.secondary_key)
    return Snapshot(
        revision=catalog.revision,
        gateway_found=catalog.gateway_found,
        routes=routes,
        subscriptions_by_key=by_key,
        product_names={p.id: p.name for p in catalog.products},
        max_suffix_segments=max((s.count("/") + 1 for s in routes), default=1),
        routes_by_api={route.api.id: route for route in routes.values()},
        subscriptions_by_id={sub.id: sub for sub in catalog.subscriptions},
        ended_subscriptions=dict(catalog.ended_subscriptions),
        unpublished_products=frozenset(p.id for p in catalog.products if not p.published),
    )
