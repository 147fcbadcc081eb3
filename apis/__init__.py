"""The catalog: WebSocket APIs, products, subscriptions, gateways and their policy documents."""
