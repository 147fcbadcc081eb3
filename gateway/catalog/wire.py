"""What travels between the planes as JSON: a gateway's catalog (the config a self-hosted node
pulls and keeps on disk) and a telemetry batch (what a node posts and spools).

Subscription keys appear only as keyed hashes (see `contract.subscription_key_hash`). Dates
travel as ISO 8601 text and are read back for the fields that hold them. Heartbeat and live
connection reports are plain JSON objects whose fields `gateway.node` documents.
"""

from dataclasses import asdict
from datetime import datetime

from gateway.catalog.contract import (
    ApiEntry,
    GatewayCatalog,
    HostnameEntry,
    ProductEntry,
    SubscriptionEntry,
)
from gateway.catalog.eventsource import EventSource

FORMAT = 1  # bumped when the shape changes; a node refuses a format it does not know


def catalog_to_json(catalog: GatewayCatalog) -> dict:
    data = asdict(catalog)
    for api in data["apis"]:
        if api["message_schemas"] is None:
            # Left out when there is no contract, so nodes older than the field still read it.
            del api["message_schemas"]
        if api["max_connections"] is None:
            del api["max_connections"]  # likewise for connection caps
        if api["source"] is None:
            del api["source"]  # a WebSocket backend (older nodes still read the catalog)
        if not api["backend_ca_pem"]:
            del api["backend_ca_pem"]  # and for the system's CA store
        if not api["backend_secrets"]:
            del api["backend_secrets"]  # and for a broker without credentials
    for product in data["products"]:
        if product["max_connections"] is None:
            del product["max_connections"]
    for sub in data["subscriptions"]:
        if not sub["owner_email"]:
            del sub["owner_email"]  # sent only when a policy reads it (older nodes still parse)
        for name in ("start_date", "expiration_date"):
            if sub[name] is not None:
                sub[name] = sub[name].isoformat()
    for host in data["hostnames"]:
        if host["not_after"] is not None:
            host["not_after"] = host["not_after"].isoformat()
    if not data["hostnames"]:
        del data["hostnames"]  # older nodes still read a catalog without host names
    for name in ("client_ca_pem", "client_crl_pem", "backend_certificates"):
        if not data[name]:
            del data[name]
    return {"format": FORMAT, **data}


def catalog_from_json(data: dict) -> GatewayCatalog:
    """The catalog from `catalog_to_json`'s output; ValueError/KeyError/TypeError if malformed."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown catalog format {data.get('format')!r}")
    apis = tuple(
        ApiEntry(
            **{
                **api,
                "product_ids": tuple(api["product_ids"]),
                "source": _source(api.get("source")),
                "backend_secrets": tuple(
                    (str(name), str(value)) for name, value in api.get("backend_secrets", ())
                ),
            }
        )
        for api in data["apis"]
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
        hostnames=tuple(
            HostnameEntry(**{**host, "not_after": _date(host.get("not_after"))})
            for host in data.get("hostnames", ())
        ),
        client_ca_pem=str(data.get("client_ca_pem", "")),
        client_crl_pem=str(data.get("client_crl_pem", "")),
        backend_certificates=tuple(
            (str(n), str(c), str(k)) for n, c, k in data.get("backend_certificates", ())
        ),
    )


def _source(value: dict | None) -> EventSource | None:
    if value is None:
        return None
    return EventSource(**{**value, "allow": tuple(value.get("allow", ()))})


def _date(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# Telemetry batches --------------------------------------------------------------------------

RECORD_DATES = ("started_at", "ended_at")
FIGURE_DATES = ("minute",)


def encode_batch(batch: dict) -> dict:
    """JSON-ready copy of `batch` (batch_id, records, usage, refusals); text dates stay text."""
    return {
        "batch_id": batch["batch_id"],
        "records": [_encode(r) for r in batch["records"]],
        "usage": [_encode(r) for r in batch["usage"]],
        "refusals": [_encode(r) for r in batch["refusals"]],
    }


def decode_batch(data: dict) -> dict:
    """The batch from `encode_batch`'s output; ValueError/KeyError/TypeError when malformed."""
    if not isinstance(data.get("batch_id"), str) or not data["batch_id"]:
        raise ValueError("batch_id is required")
    return {
        "batch_id": data["batch_id"],
        "records": [_decode(r, RECORD_DATES) for r in data["records"]],
        "usage": [_decode(r, FIGURE_DATES) for r in data["usage"]],
        "refusals": [_decode(r, FIGURE_DATES) for r in data["refusals"]],
    }


def _encode(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _decode(row: dict, dates: tuple[str, ...]) -> dict:
    if not isinstance(row, dict):
        raise ValueError("rows must be objects")
    decoded = dict(row)
    for name in dates:
        if isinstance(decoded.get(name), str):
            decoded[name] = datetime.fromisoformat(decoded[name])
    return decoded
