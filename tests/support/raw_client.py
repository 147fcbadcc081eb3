"""A WebSocket client on a plain blocking socket, for peers that misbehave on purpose.

websockets' Sans-I/O ClientProtocol builds the handshake and the frames; the test decides when
(and whether) to read, how small the receive buffer is, and what raw bytes to send.
"""

import socket
import time

from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri

TCP_ESTABLISHED = 1


class RawClient:
    def __init__(self, url: str, *, rcvbuf: int | None = None, timeout: float = 10.0) -> None:
        uri = parse_uri(url)
        self.sock = socket.socket()
        if rcvbuf is not None:
            # Before connect, so the window the gateway sees is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((uri.host, uri.port))
        self.protocol = ClientProtocol(uri, max_size=None)
        self.protocol.send_request(self.protocol.connect())
        self.flush()
        while self.protocol.state is State.CONNECTING:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("the gateway closed during the handshake")
            self.protocol.receive_data(data)
        if self.protocol.handshake_exc is not None:
            raise self.protocol.handshake_exc
        self.events: list[Frame] = []

    def flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self.flush()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_trickled(self, data: bytes, pause: float = 0.002) -> None:
        """Send `data` one byte per TCP segment (Nagle off, a pause after each byte)."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            self.sock.sendall(data[i : i + 1])
            time.sleep(pause)

    def read_frames(self, nbytes: int = 65536) -> list[Frame]:
        """One read from the socket; the frames it completed (pings are answered)."""
        data = self.sock.recv(nbytes)
        if not data:
            self.protocol.receive_eof()
        else:
            self.protocol.receive_data(data)
        self.flush()
        return [e for e in self.protocol.events_received() if isinstance(e, Frame)]

    def established(self) -> bool:
        """Whether the TCP connection is still open both ways (read without reading data)."""
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        return info[0] == TCP_ESTABLISHED

    def wait_ended(self, timeout: float) -> float | None:
        """Seconds until the gateway closed or reset the connection, or None if it did not."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.established():
                return time.monotonic() - started
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self.sock.close()
