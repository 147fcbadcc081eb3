"""A small Portico deployment for tests: a portal, self-hosted gateway nodes, HAProxy, Redis.

The portal (`run_portal`) runs on the host at `network.host`; each node (`run_gateway`, no
database, configuration pulled from the portal) runs in its own network namespace (or on its own
loopback address, see tests/support/netns.py); HAProxy balances the client side over the nodes
and forwards the shared Redis into the nodes' network. Every process is stopped by its PID.
"""

import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.haproxy import Forward, HAProxy, HAProxyConfig
from tests.support.netns import LoopbackNetwork, NamespaceNetwork
from tests.support.servers import ROOT, server_env, test_database_url

# Reached on addresses other than loopback, as in production: DEBUG off (it refuses public hosts).
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)}


def free_port_on(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 3.0, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class Proc:
    """One subprocess, its output in a log file, ready when `ready_url` answers 200."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_dir: Path, ready_url: str
    ) -> None:
        self.name = name
        self.argv = argv
        self.ready_url = ready_url
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.pid = self.process.pid

    def wait_ready(self, timeout: float = 40.0) -> "Proc":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()[-4000:]}")
            if http_status(self.ready_url, timeout=1.0) == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready at {self.ready_url}:\n{self.output()[-4000:]}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM: a graceful drain begins."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a graceful drain), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        return self.process.returncode


@dataclass
class Cluster:
    """The pieces of one deployment; `start_*`/`stop_*` may be called again (restarts)."""

    network: NamespaceNetwork | LoopbackNetwork
    work_dir: Path
    gateway: str  # the self-hosted gateway's name
    token: str  # its node token
    redis_url: str
    nodes: int = 2
    portal_port: int = 0
    node_port: int = 0
    limits_prefix: str = field(default_factory=lambda: f"portico-cluster-{uuid.uuid4().hex}")
    portal: Proc | None = None
    node_procs: dict[int, Proc] = field(default_factory=dict)
    haproxy: HAProxy | None = None
    managed: bool = False  # nodes read the database (managed gateway) instead of the portal
    node_redis_url: str = ""
    node_database_url: str = ""
    socket_dir: Path | None = field(default=None, init=False, repr=False)

    @property
    def control_url(self) -> str:
        return f"http://{self.network.host}:{self.portal_port}"

    def node_url(self, index: int) -> str:
        return f"http://{self.network.address(index)}:{self.node_port}"

    def var_dir(self, index: int) -> Path:
        path = self.work_dir / f"node{index}"
        path.mkdir(exist_ok=True)
        return path

    # -- pieces ---------------------------------------------------------------------------------

    def start_portal(self, **env: str) -> Proc:
        if not self.portal_port:
            self.portal_port = free_port_on(self.network.host)
        argv = [sys.executable, "manage.py", "run_portal"]
        argv += ["--host", self.network.host, "--port", str(self.portal_port)]
        hosts = f"localhost,127.0.0.1,{self.network.host}"
        environment = server_env(ALLOWED_HOSTS=hosts, REDIS_URL=self.redis_url, **PRODUCTION, **env)
        ready = self.control_url + "/healthz"
        self.portal = Proc("portal", argv, environment, self.work_dir, ready)
        return self.portal.wait_ready()

    def stop_portal(self) -> None:
        if self.portal:
            self.portal.stop()
            self.portal = None

    def start_node(self, index: int, *, wait: bool = True, **env: str) -> Proc:
        self._choose_node_port()
        address = self.network.address(index)
        argv = [sys.executable, "manage.py", "run_gateway", "--workers", "1"]
        argv += ["--host", address, "--port", str(self.node_port)]
        if self.managed:
            source = {"DATABASE_URL": self.node_database_url or test_database_url()}
        else:
            source = {
                "DATABASE_URL": "",
                "PORTICO_CONTROL_URL": self.control_url,
                "PORTICO_GATEWAY_TOKEN": self.token,
            }
        environment = server_env(
            **source,
            PORTICO_GATEWAY=self.gateway,
            PORTICO_VAR_DIR=str(self.var_dir(index)),
            REDIS_URL=self.node_redis_url or self.redis_url,
            PORTICO_LIMITS_KEY_PREFIX=self.limits_prefix,
            ALLOWED_HOSTS=f"localhost,127.0.0.1,{address}",
            **PRODUCTION,
            **env,
        )
        proc = Proc(
            f"node{index}",
            self.network.command(index, argv),
            environment,
            self.work_dir,
            self.node_url(index) + "/_portico/status",
        )
        self.node_procs[index] = proc
        return proc.wait_ready() if wait else proc

    def stop_node(self, index: int) -> None:
        proc = self.node_procs.pop(index, None)
        if proc:
            proc.stop()

    def _choose_node_port(self) -> None:
        if not self.node_port:
            # A namespace is a machine of its own: its nodes can all use the usual port.
            namespaces = isinstance(self.network, NamespaceNetwork)
            self.node_port = 8000 if namespaces else free_port_on(self.network.address(0))

    def start_haproxy(self) -> HAProxy:
        self._choose_node_port()
        forwards: list[Forward] = []
        if isinstance(self.network, NamespaceNetwork):
            # Nodes live in their own namespaces: the host's loopback services reach them
            # through HAProxy on the host's address in their network.
            self.node_redis_url = self._forward(self.redis_url, forwards)
            if self.managed:
                self.node_database_url = self._forward(test_database_url(), forwards)
        config = HAProxyConfig(
            port=free_port_on("127.0.0.1"),
            nodes=[
                (f"node{i}", self.network.address(i), self.node_port) for i in range(self.nodes)
            ],
            stats_socket=self._short_dir() / "haproxy.sock",
            portal=(self.network.host, self.portal_port),
            forwards=forwards,
        )
        self.haproxy = HAProxy(config, self.work_dir)
        return self.haproxy

    def _forward(self, url: str, forwards: list[Forward]) -> str:
        """Add a TCP forward for `url`'s host and port; the URL the nodes use instead."""
        parts = urllib.parse.urlsplit(url)
        port = free_port_on(self.network.host)
        target_port = parts.port or {"redis": 6379, "postgres": 5432}[parts.scheme]
        forwards.append(Forward((self.network.host, port), (parts.hostname, target_port)))
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        return parts._replace(netloc=f"{netloc}{self.network.host}:{port}").geturl()

    def _short_dir(self) -> Path:
        # A Unix socket's path must stay under 108 bytes; pytest's tmp_path may not.
        if self.socket_dir is None:
            self.socket_dir = Path(tempfile.mkdtemp(prefix="portico-"))
        return self.socket_dir

    def start_nodes(self) -> None:
        """Every node, started together (each takes seconds to import and load)."""
        procs = [self.start_node(index, wait=False) for index in range(self.nodes)]
        for proc in procs:
            proc.wait_ready()

    def stop(self) -> None:
        """Everything, in reverse order of need; safe to call twice."""
        for proc in self.node_procs.values():
            proc.terminate()  # all drain at once
        for index in list(self.node_procs):
            self.stop_node(index)
        self.stop_portal()
        if self.haproxy:
            self.haproxy.stop()
            self.haproxy = None
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    def logs(self) -> str:
        """Every process's output, for an assertion message."""
        parts = []
        for proc in [self.portal, *self.node_procs.values()]:
            if proc:
                parts.append(f"--- {proc.name}\n{proc.output()[-3000:]}")
        if self.haproxy:
            parts.append(f"--- haproxy\n{self.haproxy.output()[-2000:]}")
        return "\n".join(parts)
