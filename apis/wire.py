"""A gateway's catalog as JSON: the format lives with the contract in `gateway.catalog.wire`;
re-exported here for the control plane's callers."""

from gateway.catalog.wire import FORMAT, catalog_from_json, catalog_to_json

__all__ = ["FORMAT", "catalog_from_json", "catalog_to_json"]
