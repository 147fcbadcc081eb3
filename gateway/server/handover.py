"""What uvicorn's set of connections holds for a connection handed to a tunnel."""


class TunnelledConnection:
    """What the server's set of connections holds for a connection handed to a tunnel: enough
    to pass a shutdown on and to be discarded when the tunnel is done with it."""

    __slots__ = ("tunnel", "connections")

    def __init__(self, tunnel, connections: set) -> None:
        self.tunnel = tunnel  # the protocol the transport was handed to
        self.connections = connections

    def shutdown(self) -> None:
        self.tunnel.shutdown()

    def lost(self, exc) -> None:
        self.connections.discard(self)
