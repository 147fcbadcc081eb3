"""Drop a connection with a TCP reset, so a peer that stops reading frees its buffers at once."""

import socket
import struct

_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on with 0 s: close() sends RST


def reset(transport) -> None:
    """Abort `transport` with a TCP reset.

    A plain abort closes the socket with bytes still queued in the kernel; the kernel then keeps
    trying to deliver them to a peer that does not read (FIN_WAIT1 for minutes, the peer still
    sees an open connection). With a zero linger the close sends RST and frees everything."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
    transport.abort()
