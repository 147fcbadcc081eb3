"""A telemetry batch as JSON: the format lives with the contract in `gateway.catalog.wire`;
re-exported here for the control plane's callers."""

from gateway.catalog.wire import decode_batch, encode_batch

__all__ = ["decode_batch", "encode_batch"]
