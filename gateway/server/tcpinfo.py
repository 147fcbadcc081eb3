"""What the kernel knows of a TCP connection's send side: bytes acknowledged, bytes unsent."""

import fcntl
import socket
import struct

_TCP_INFO_SIZE = 232
_BYTES_ACKED_OFFSET = 120  # struct tcp_info.tcpi_bytes_acked (Linux >= 4.1)
_SIOCOUTQ = 0x5411  # bytes in the kernel's send queue not yet acknowledged (TIOCOUTQ)


def bytes_acked(transport) -> int:
    """How many bytes the peer's TCP has acknowledged so far (0 where unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
        return struct.unpack_from("Q", info, _BYTES_ACKED_OFFSET)[0]
    except (AttributeError, OSError, struct.error):
        return 0


def unsent(transport) -> int:
    """Bytes still in the kernel's send queue for this connection (0 where unknown)."""
    sock = transport.get_extra_info("socket")
    try:
        raw = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0")
        return struct.unpack("i", raw)[0]
    except (AttributeError, OSError, struct.error):
        return 0
