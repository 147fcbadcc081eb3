"""A self-hosted node serves TLS with the certificates it pulls (issue 27 items 2, 3 and 6): the
key of its own gateway's host name reaches it over the node link, is kept only in its 0600
saved configuration, and SNI serves it; another gateway's key never reaches it."""

import hashlib
import socket
import ssl
import stat

import pytest

from apis import selectors, services
from tests.support.certs import issue, make_ca
from tests.support.client import run, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)

CA = make_ca("Node CA")
EDGE = issue(CA, "edge.test", dns_names=("edge.test",))
ELSEWHERE = issue(CA, "managed.test", dns_names=("managed.test",))


def test_a_node_serves_its_gateways_certificate_only(control, edge, start_edge_node, tmp_path):
    mine = services.create_certificate(name="edge-cert", pem=EDGE.pem)
    theirs = services.create_certificate(name="managed-cert", pem=ELSEWHERE.pem)
    services.set_gateway_hostnames(
        gateway=edge.gateway, hostnames=[{"hostname": "edge.test", "certificate": mine}]
    )
    services.set_gateway_hostnames(
        gateway=services.ensure_builtin_gateway(),
        hostnames=[{"hostname": "managed.test", "certificate": theirs}],
    )
    certfile, keyfile = EDGE.write(tmp_path, "fallback")  # answers the readiness probe
    node = start_edge_node(control, args=("--certfile", certfile, "--keyfile", keyfile), tls=True)
    try:
        node.wait_for_revision(selectors.catalog_revision())
        context = ssl.create_default_context(cadata=CA.cert_pem)
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="edge.test") as tls:
                der = tls.getpeercert(binary_form=True)
        assert hashlib.sha1(der).hexdigest().upper() == EDGE.thumbprint  # noqa: S324

        async def relay():
            url = f"wss://edge.test:{node.port}/echo?subscription-key={edge.key}"
            async with ws_connect(url, host="127.0.0.1", port=node.port, ssl=context) as ws:
                await ws.send("node tls")
                return await ws.recv()

        assert run(relay()) == "node tls"
        saved = tmp_path / "gateway-edge.config.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        on_disk = saved.read_text()
        assert "PRIVATE KEY" not in node.output() and "PRIVATE KEY" in on_disk  # 0600 only
        assert "edge.test" in on_disk and "managed.test" not in on_disk
        assert ELSEWHERE.cert_pem.splitlines()[1] not in on_disk
    finally:
        node.stop()
