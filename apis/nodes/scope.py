"""What a node may report on: its own gateway's APIs, their products and the subscriptions that
reach them. Telemetry rows and live connections naming anything else are dropped and counted."""

from collections.abc import Iterable

from apis.models import Api, Gateway, Subscription

CHUNK = 500  # ids per IN (...): under every database's parameter limit


def _id(value) -> int | None:
    """A row's id (0 and None mean none); anything else than an int cannot be ours: -1."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return -1
    return value


class NodeScope:
    """One gateway's APIs and products, and the subscriptions a report names, read in two
    queries (plus one per CHUNK subscription ids); `keep` filters rows and counts the others."""

    def __init__(self, gateway: Gateway, rows: Iterable[dict]) -> None:
        self.products_of: dict[int, set[int]] = {}
        for api_id, product_id in Api.objects.filter(gateways=gateway).values_list(
            "id", "products"
        ):
            products = self.products_of.setdefault(api_id, set())
            if product_id is not None:
                products.add(product_id)
        self.all_products = set().union(*self.products_of.values())
        wanted = sorted({i for row in rows if (i := _id(row.get("subscription_id"))) is not None})
        wanted = [i for i in wanted if i > 0]
        self.subscriptions: dict[int, tuple[str, int | None, int | None]] = {}
        for start in range(0, len(wanted) if self.products_of else 0, CHUNK):
            found = Subscription.objects.filter(id__in=wanted[start : start + CHUNK])
            for sub_id, *fields in found.values_list("id", "scope", "product_id", "api_id"):
                self.subscriptions[sub_id] = tuple(fields)
        self.dropped = 0

    def allows(self, row: dict) -> bool:
        """Whether the row's API is on this gateway, its product offers that API and its
        subscription opens it (no API: any of this gateway's)."""
        api_id = _id(row.get("api_id"))
        if api_id is not None and api_id not in self.products_of:
            return False
        products = self.products_of[api_id] if api_id is not None else self.all_products
        product_id = _id(row.get("product_id"))
        if product_id is not None and product_id not in products:
            return False
        sub_id = _id(row.get("subscription_id"))
        if sub_id is None:
            return True
        found = self.subscriptions.get(sub_id)
        if found is None:
            return False
        scope, sub_product, sub_api = found
        if scope == Subscription.Scope.ALL_APIS:
            return True
        if scope == Subscription.Scope.API:
            return sub_api == api_id if api_id is not None else sub_api in self.products_of
        return sub_product in products

    def keep(self, rows: list[dict]) -> list[dict]:
        """The rows this gateway's node may write; the others are counted in `dropped`."""
        kept = [row for row in rows if self.allows(row)]
        self.dropped += len(rows) - len(kept)
        return kept
