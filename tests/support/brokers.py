"""Real event brokers for tests: the shared ones (Redis 6379, NATS 4222, Mosquitto 1883) and
private ones on free ports, started and stopped by PID, for tests that take a broker down."""

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.support.backend import free_port

SHARED_REDIS = "redis://127.0.0.1:6379/6"  # db 6: this area's own database
SHARED_NATS = "nats://127.0.0.1:4222"
SHARED_MQTT = "mqtt://127.0.0.1:1883"


def unique_name(prefix: str, separator: str = ".") -> str:
    """A stream/subject/topic no other test (or helper on this machine) uses."""
    return f"{prefix}{separator}{uuid.uuid4().hex[:12]}"


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"broker did not listen on {port}")


class BrokerProcess:
    """One broker server of our own on a free loopback port; `stop()` ends only that PID."""

    def __init__(self, kind: str, workdir: Path, port: int | None = None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        scheme = {"redis": "redis", "nats": "nats", "mqtt": "mqtt"}[self.kind]
        return f"{scheme}://127.0.0.1:{self.port}" + ("/0" if self.kind == "redis" else "")

    def command(self) -> list[str]:
        port = str(self.port)
        if self.kind == "redis":
            # Kept on disk (AOF, fsync always), so a restarted broker still holds the stream.
            return [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--dir", str(self.workdir),
            ]  # fmt: skip
        if self.kind == "nats":
            return [
                shutil.which("nats-server") or "/usr/sbin/nats-server",
                "-a", "127.0.0.1", "-p", port, "-js", "-sd", str(self.workdir),
            ]  # fmt: skip
        config = self.workdir / "mosquitto.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        return [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)]

    def start(self) -> "BrokerProcess":
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"{self.kind}.log", "ab")  # noqa: SIM115 - kept by the child
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=log)
        log.close()
        _wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
