"""From a client's handshake to the backend request: route, key or ticket, caps, policies."""
