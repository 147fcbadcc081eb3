"""A throwaway redis-server on a free loopback port, for tests of a stalled or slow store."""

import signal
import socket
import subprocess
import time

from tests.support.backend import free_port


class RedisServer:
    """A throwaway redis-server on a free loopback port, without persistence."""

    def __init__(self, *, debug_command: bool = False) -> None:
        self.port = free_port()
        # DEBUG SLEEP makes a real Redis slow on purpose; redis 7 refuses DEBUG unless enabled.
        debug = ["--enable-debug-command", "yes"] if debug_command else []
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                *debug,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if (
                    subprocess.run(
                        ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, timeout=2
                    ).stdout.strip()
                    == b"PONG"
                ):
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.process.terminate()
        self.process.wait(10)

    def sleep(self, seconds: float) -> socket.socket:
        """Make the server answer nothing for `seconds` (DEBUG SLEEP, sent on its own
        connection; needs debug_command=True). Returns that connection: close it afterwards."""
        conn = socket.create_connection(("127.0.0.1", self.port))
        conn.sendall(f"DEBUG SLEEP {seconds}\r\n".encode())
        return conn
