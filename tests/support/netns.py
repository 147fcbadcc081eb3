"""Machines for multi-node tests: each node in its own network namespace with its own address.

`NamespaceNetwork` makes a private /24 that exists only for the test: a bridge holding the host's
address in it (`host`) and one namespace per node, joined by a veth pair, holding the node's
address (`address(i)`). Processes started with `command(i, ...)` run inside node i's namespace;
they reach the host's services only at `host` (loopback-bound services need a forward, see
tests/support/haproxy.py). `down()` always removes everything it made, processes first.

`LoopbackNetwork` is the fallback where namespaces cannot be made: every node gets its own
loopback address (127.0.0.11, 127.0.0.12, ...) and the host is 127.0.0.1.
"""

import os
import random
import shutil
import signal
import subprocess
import time

IP = shutil.which("ip") or "/usr/sbin/ip"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([IP, *args], capture_output=True, text=True, timeout=10, check=check)


class LoopbackNetwork:
    """Nodes on loopback addresses of the host (no isolation): the fallback."""

    kind = "loopback"
    host = "127.0.0.1"

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes

    def address(self, index: int) -> str:
        return f"127.0.0.{11 + index}"

    def command(self, index: int, argv: list[str]) -> list[str]:
        return list(argv)

    def up(self) -> "LoopbackNetwork":
        return self

    def down(self) -> None:
        return None

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()


class NamespaceNetwork:
    """One network namespace per node on a private /24 bridged to the host."""

    kind = "namespaces"

    def __init__(self, nodes: int, subnet: int | None = None) -> None:
        self.nodes = nodes
        self.tag = f"{os.getpid() % 100000}"  # names stay under the 15-character limit
        self.subnet = subnet if subnet is not None else _free_subnet()
        self.bridge = f"pcb{self.tag}"
        self.host = f"10.213.{self.subnet}.1"
        self._made: list[tuple[str, str]] = []  # ("netns"|"link", name), undone in reverse

    def namespace(self, index: int) -> str:
        return f"portico-{self.tag}-n{index}"

    def address(self, index: int) -> str:
        return f"10.213.{self.subnet}.{11 + index}"

    def command(self, index: int, argv: list[str]) -> list[str]:
        # `ip netns exec` execs the command itself: the child's PID is the command's.
        return [IP, "netns", "exec", self.namespace(index), *argv]

    def up(self) -> "NamespaceNetwork":
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            self._made.append(("link", self.bridge))
            _ip("addr", "add", f"{self.host}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for index in range(self.nodes):
                ns, outside, inside = self.namespace(index), f"pch{self.tag}{index}", "eth0"
                _ip("netns", "add", ns)
                self._made.append(("netns", ns))
                _ip("link", "add", outside, "type", "veth", "peer", "name", f"pcn{self.tag}{index}")
                self._made.append(("link", outside))
                _ip("link", "set", f"pcn{self.tag}{index}", "netns", ns, "name", inside)
                _ip("link", "set", outside, "master", self.bridge, "up")
                _ip("-n", ns, "addr", "add", f"{self.address(index)}/24", "dev", inside)
                _ip("-n", ns, "link", "set", inside, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        """Stop whatever still runs in the namespaces (our children, by PID), then remove all."""
        for what, name in reversed(self._made):
            if what == "netns":
                _stop_pids(_ip("netns", "pids", name, check=False).stdout.split())
                _ip("netns", "del", name, check=False)
            else:
                _ip("link", "del", name, check=False)
        self._made.clear()

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()


def make_network(nodes: int) -> NamespaceNetwork | LoopbackNetwork:
    """Namespaces when this machine allows them (root, `ip`), else loopback addresses."""
    if os.geteuid() == 0 and os.path.exists(IP):
        probe = f"portico-probe-{os.getpid()}"
        if _ip("netns", "add", probe, check=False).returncode == 0:
            _ip("netns", "del", probe, check=False)
            return NamespaceNetwork(nodes)
    return LoopbackNetwork(nodes)


def _free_subnet() -> int:
    """A 10.213.N.0/24 no interface on this host uses yet."""
    used = _ip("-4", "-o", "addr", "show").stdout
    candidates = [n for n in range(16, 250) if f" 10.213.{n}." not in used]
    return random.choice(candidates)  # noqa: S311 - avoids clashes between parallel runs


def _stop_pids(pids: list[str], grace: float = 5.0) -> None:
    alive = [int(p) for p in pids if p.isdigit()]
    for pid in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _exists(pid)]
        time.sleep(0.05)
    for pid in alive:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child still "exists" until reaped; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False
