"""Telemetry's control plane: connection records, per-minute figures, their pages and pruning."""
