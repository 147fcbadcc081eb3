"""The relay mode of one connection, decided once at its handshake: the tunnel or the framed relay.

The consumer follows the decision (`OpenedConnection.tunnel`); `start_tunnel` only falls back to
framed when the server, at the moment of hand-over, does not give its transport up.
"""

from gateway.relay.framed import TUNNEL_EXTENSION


def tunnel_plans(relay_mode: str, scope: dict, compiled_messages) -> tuple | None:
    """The (inbound, outbound) `HeaderPlan`s the tunnel enforces, or None to relay framed.

    A tunnel reads frame headers only, so it is chosen when PORTICO_RELAY_MODE is "auto", the
    server can hand its transport over (uvicorn with our protocol offers TUNNEL_EXTENSION), and
    the onMessage policies (`compiled_messages`, a MessagePipeline or None) need no payloads:
    their plans are derived from the compiled policies themselves (`header_only`)."""
    if relay_mode != "auto" or TUNNEL_EXTENSION not in (scope.get("extensions") or {}):
        return None
    if compiled_messages is None:
        return (None, None)
    return compiled_messages.header_only
