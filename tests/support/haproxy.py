"""A real HAProxy (Debian's package) in front of gateway nodes, configured in a temp directory.

`HAProxy(...)` writes the configuration, starts `haproxy -db` in the foreground, waits until it
listens and stops it by PID. Besides the gateway frontend it can forward plain TCP ports
(`forwards`), which is how nodes in network namespaces reach services bound to the host's
loopback (Redis). `server_sessions()` reads the stats socket: sessions per gateway node.
"""

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def haproxy_available() -> bool:
    return Path(HAPROXY).exists()


@dataclass
class Forward:
    """Plain TCP from `listen` (address, port) to `target` (address, port)."""

    listen: tuple[str, int]
    target: tuple[str, int]


@dataclass
class HAProxyConfig:
    """The gateway frontend on `port` (127.0.0.1), balanced over `nodes` [(name, address, port)];
    requests for Host `portal_host` go to the portal; health checks on /_portico/status."""

    port: int
    nodes: list[tuple[str, str, int]]
    stats_socket: Path
    portal: tuple[str, int] | None = None
    portal_host: str = "portal.test"
    forwards: list[Forward] = field(default_factory=list)
    check_interval_ms: int = 500

    def render(self) -> str:
        lines = [
            "global",
            f"    stats socket {self.stats_socket} mode 600 level admin",
            "    maxconn 4096",
            "",
            "defaults",
            "    mode http",
            "    timeout connect 3s",
            "    timeout client 60s",
            "    timeout server 60s",
            "    timeout tunnel 1h",  # a WebSocket, once upgraded, may stay idle this long
            "    timeout client-fin 5s",
            "",
            "frontend edge",
            f"    bind 127.0.0.1:{self.port}",
            "    option forwardfor",
        ]
        if self.portal:
            lines.append(f"    use_backend portal if {{ hdr(host) -m beg -i {self.portal_host} }}")
        lines += [
            "    default_backend gateway_nodes",
            "",
            "backend gateway_nodes",
            "    balance roundrobin",
            "    option httpchk",
            "    http-check send meth GET uri /_portico/status ver HTTP/1.1 hdr Host localhost",
            "    http-check expect status 200",
        ]
        for name, address, port in self.nodes:
            lines.append(
                f"    server {name} {address}:{port} check inter {self.check_interval_ms} "
                "fall 2 rise 1"
            )
        if self.portal:
            address, port = self.portal
            lines += ["", "backend portal", f"    server portal {address}:{port}"]
        for index, forward in enumerate(self.forwards):
            (laddr, lport), (taddr, tport) = forward.listen, forward.target
            lines += [
                "",
                f"listen forward{index}",
                "    mode tcp",
                "    timeout client 1h",
                "    timeout server 1h",
                f"    bind {laddr}:{lport}",
                f"    server target {taddr}:{tport}",
            ]
        return "\n".join(lines) + "\n"


class HAProxy:
    """One haproxy process in the foreground, its output in `log_path`."""

    def __init__(self, config: HAProxyConfig, work_dir: Path) -> None:
        self.config = config
        self.config_path = work_dir / "haproxy.cfg"
        self.config_path.write_text(config.render())
        self.log_path = work_dir / "haproxy.log"
        check = subprocess.run(
            [HAPROXY, "-c", "-q", "-f", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its configuration:\n{check.stderr}")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_listening()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.config.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.config.port}"

    def command(self, line: str) -> str:
        """One command on the admin socket (e.g. "show stat"), its answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.config.stats_socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """The gateway nodes' rows of `show stat`, by server name."""
        text = self.command("show stat")
        header, *rows = [line for line in text.splitlines() if line]
        names = header.lstrip("# ").split(",")
        table = [dict(zip(names, row.split(","), strict=False)) for row in rows]
        return {
            row["svname"]: row
            for row in table
            if row["pxname"] == "gateway_nodes" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def server_sessions(self) -> dict[str, int]:
        """Total sessions each gateway node has been given since HAProxy started."""
        return {name: int(row["stot"] or 0) for name, row in self.servers().items()}

    def wait_nodes_up(self, timeout: float = 20.0) -> None:
        """Until every gateway node passes its health check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {name: row["status"] for name, row in self.servers().items()}
            if states and all(state.startswith("UP") for state in states.values()):
                return
            time.sleep(0.1)
        raise TimeoutError(f"gateway nodes not all up in HAProxy: {states}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.output()}")
            try:
                socket.create_connection(("127.0.0.1", self.config.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"haproxy did not listen:\n{self.output()}")
