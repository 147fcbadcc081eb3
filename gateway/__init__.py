"""The data plane: routes WebSocket handshakes to APIs, enforces policies, relays frames."""
