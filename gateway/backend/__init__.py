"""The backend leg: open it, run its handshake, hold it (plus the demo's echo backend)."""
