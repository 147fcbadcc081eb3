"""Gateway telemetry: connection records, per-minute figures, Prometheus metrics, JSON logs."""
