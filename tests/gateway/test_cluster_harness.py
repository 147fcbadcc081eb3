"""The multi-node harness itself: namespaces with their own addresses, a real HAProxy in front,
health checks on /_portico/status, and nothing left behind after teardown."""

import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.cluster import Proc, free_port_on
from tests.support.haproxy import HAProxy, HAProxyConfig, haproxy_available
from tests.support.netns import IP, NamespaceNetwork, make_network

pytestmark = pytest.mark.skipif(
    not haproxy_available(), reason="haproxy is not installed (.ci/run installs it)"
)


def static_node(network, index: int, root, port: int, log_dir) -> Proc:
    """A stand-in node: a static HTTP server whose /_portico/status says which node it is."""
    (root / "_portico").mkdir(parents=True)
    (root / "_portico" / "status").write_text(f"node{index}")
    address = network.address(index)
    argv = [sys.executable, "-m", "http.server", "--bind", address, "--directory", str(root)]
    argv.append(str(port))
    proc = Proc(f"static{index}", network.command(index, argv), {}, log_dir, "")
    proc.ready_url = f"http://{address}:{port}/_portico/status"
    return proc.wait_ready()


def test_nodes_get_their_own_addresses_behind_haproxy_and_teardown_removes_everything(tmp_path):
    network = make_network(2)
    port = 8000 if isinstance(network, NamespaceNetwork) else 18731
    procs, haproxy = [], None
    with network:
        try:
            procs = [static_node(network, i, tmp_path / f"n{i}", port, tmp_path) for i in (0, 1)]
            config = HAProxyConfig(
                port=_free_port(),
                nodes=[(f"node{i}", network.address(i), port) for i in (0, 1)],
                stats_socket=tmp_path / "haproxy.sock",
            )
            haproxy = HAProxy(config, tmp_path)
            haproxy.wait_nodes_up()
            answers = [_get(f"{haproxy.http_url}/_portico/status") for _ in range(6)]
            assert sorted(set(answers)) == ["node0", "node1"]
            assert haproxy.server_sessions() == {"node0": 3, "node1": 3}

            procs[1].stop()  # a node goes down: the health check takes it out of the rotation
            _wait(lambda: haproxy.servers()["node1"]["status"].startswith("DOWN"))
            assert {_get(f"{haproxy.http_url}/_portico/status") for _ in range(4)} == {"node0"}
        finally:
            if haproxy:
                haproxy.stop()
            for proc in procs:
                proc.stop()
    if isinstance(network, NamespaceNetwork):
        namespaces = subprocess.run([IP, "netns", "list"], capture_output=True, text=True).stdout
        links = subprocess.run([IP, "-o", "link"], capture_output=True, text=True).stdout
        assert network.namespace(0) not in namespaces and network.namespace(1) not in namespaces
        assert network.bridge not in links
    else:
        pytest.skip("network namespaces are not available here: nodes ran on loopback addresses")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return response.read().decode()


def _free_port() -> int:
    return free_port_on("127.0.0.1")


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met")
