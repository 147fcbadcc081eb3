"""The data plane's own small HTTP endpoints: status, the handshake probe and /metrics."""
