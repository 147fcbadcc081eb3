"""The control plane's endpoints for gateway nodes (/_portico/gateways/v1/): config, heartbeats."""
