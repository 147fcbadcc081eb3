"""A telemetry batch as JSON, the way a self-hosted node sends it and keeps it in its spool.

Only dates need care: they travel as ISO 8601 text and are read back for the fields that hold
them (a record's start and end, a figure's minute)."""

from datetime import datetime

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
