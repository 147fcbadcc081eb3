"""A gateway's catalog as JSON: what the control plane sends a self-hosted node and what the node
keeps on disk. Subscription keys appear only as keyed hashes (see `selectors.gateway_catalog`)."""

from dataclasses import asdict
from datetime import datetime

from apis.selectors import ApiEntry, GatewayCatalog, ProductEntry, SubscriptionEntry

FORMAT = 1  # bumped when the shape changes; a node refuses a format it does not know


def catalog_to_json(catalog: GatewayCatalog) -> dict:
    data = asdict(catalog)
    for api in data["apis"]:
        if api["message_schemas"] is None:
            # Left out when there is no contract, so nodes older than the field still read it.
            del api["message_schemas"]
        if api["max_connections"] is None:
            del api["max_connections"]  # likewise for connection caps
    for product in data["products"]:
        if product["max_connections"] is None:
            del product["max_connections"]
    for sub in data["subscriptions"]:
        if not sub["owner_email"]:
            del sub["owner_email"]  # sent only when a policy reads it (older nodes still parse)
        for name in ("start_date", "expiration_date"):
            if sub[name] is not None:
                sub[name] = sub[name].isoformat()
    return {"format": FORMAT, **data}


def catalog_from_json(data: dict) -> GatewayCatalog:
    """The catalog from `catalog_to_json`'s output; ValueError/KeyError/TypeError if malformed."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown catalog format {data.get('format')!r}")
    apis = tuple(
        ApiEntry(**{**api, "product_ids": tuple(api["product_ids"])}) for api in data["apis"]
    )
    products = tuple(ProductEntry(**product) for product in data["products"])
    subscriptions = tuple(
        SubscriptionEntry(
            **{
                **sub,
                "start_date": _date(sub["start_date"]),
                "expiration_date": _date(sub["expiration_date"]),
            }
        )
        for sub in data["subscriptions"]
    )
    return GatewayCatalog(
        revision=int(data["revision"]),
        gateway_found=bool(data["gateway_found"]),
        apis=apis,
        products=products,
        subscriptions=subscriptions,
        global_policy_xml=data["global_policy_xml"],
        ended_subscriptions=tuple(
            (int(sub_id), str(state)) for sub_id, state in data["ended_subscriptions"]
        ),
        key_hash_secret=data["key_hash_secret"],
        secret_headers=tuple(str(name) for name in data.get("secret_headers", ())),
        secret_values=tuple(str(value) for value in data.get("secret_values", ())),
    )


def _date(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
