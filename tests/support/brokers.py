"""Real event brokers for tests: the shared ones (Redis 6379, NATS 4222, Mosquitto 1883) and
private ones on free ports, started and stopped by PID, for tests that take a broker down."""

import getpass
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
    """One broker server of our own on a free loopback port; `stop()` ends only that PID.

    With `password`, clients must authenticate: Redis `--requirepass` (or, with `user`, an ACL
    user and no anonymous default user), NATS `--user/--pass`, Mosquitto a `password_file`;
    with `token`, NATS token authentication."""

    def __init__(
        self,
        kind: str,
        workdir: Path,
        port: int | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
    ) -> None:
        self.kind = kind
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.user, self.password, self.token = user, password, token

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
                "--appendfsync", "always", "--dir", str(self.workdir), *self._redis_auth(),
            ]  # fmt: skip
        if self.kind == "nats":
            return [
                shutil.which("nats-server") or "/usr/sbin/nats-server",
                "-a", "127.0.0.1", "-p", port, "-js", "-sd", str(self.workdir), *self._nats_auth(),
            ]  # fmt: skip
        config = self.workdir / "mosquitto.conf"
        lines = [f"listener {port} 127.0.0.1"]
        if self.password is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.workdir / "passwords"
            passwords.unlink(missing_ok=True)
            subprocess.run(
                [shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-c", "-b",
                 str(passwords), self.user or "portico", self.password],
                check=True, capture_output=True,
            )  # fmt: skip
            # Run as ourselves (as root, mosquitto would switch to a user that cannot read it).
            lines += [f"user {getpass.getuser()}", "allow_anonymous false"]
            lines.append(f"password_file {passwords}")
        config.write_text("\n".join(lines) + "\n")
        return [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)]

    def _redis_auth(self) -> list[str]:
        if self.password is None:
            return []
        if self.user is None:
            return ["--requirepass", self.password]
        # One word per argument: redis-server joins them into the config line `user ...`.
        acl = [self.user, "on", f">{self.password}", "~*", "&*", "+@all"]
        return ["--user", "default", "off", "--user", *acl]

    def _nats_auth(self) -> list[str]:
        if self.token is not None:
            return ["--auth", self.token]
        if self.password is None:
            return []
        return ["--user", self.user or "portico", "--pass", self.password]

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
