"""The gateway serves TLS itself (issue 27 items 1, 3 and 6): SNI picks each host name's
certificate from the catalog, the --certfile/--keyfile pair answers other names, only TLS 1.2+
with forward-secret ciphers, 421 for a Host the gateway does not serve, and a replaced
certificate is used for new handshakes while an open connection stays up."""

import asyncio
import hashlib
import socket
import ssl

import pytest

from apis import services
from apis.models import Certificate
from tests.support.certs import issue, make_ca
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

CA = make_ca()
ONE = issue(CA, "one.test", dns_names=("one.test",))
TWO = issue(CA, "two.test", dns_names=("two.test",))
FALLBACK = issue(CA, "fallback.test", dns_names=("fallback.test",))


# context.Request.Url.Host is the host name the client asked for.
TWO_REFUSED = (
    "<policies><inbound><base />"
    "<choose><when condition='@(context.Request.Url.Host == \"two.test\")'>"
    '<return-response><set-status code="403" reason="Forbidden" /></return-response>'
    "</when></choose></inbound></policies>"
)


def client_context() -> ssl.SSLContext:
    """A client trusting the tests' CA only."""
    return ssl.create_default_context(cadata=CA.cert_pem)


def served_certificate(port: int, server_name: str | None, context=None) -> tuple[str, str, str]:
    """The thumbprint of the certificate the gateway presents for `server_name`, and the TLS
    version and cipher it chose."""
    context = context or client_context()
    if server_name is None:
        context.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
            return hashlib.sha1(der).hexdigest().upper(), tls.version(), tls.cipher()[0]  # noqa: S324


@pytest.fixture
def tls_gateway(catalog, server_logs, tmp_path):
    one = services.create_certificate(name="cert-one", pem=ONE.pem)
    two = services.create_certificate(name="cert-two", pem=TWO.pem)
    services.set_gateway_hostnames(
        gateway=catalog.gateway,
        hostnames=[
            {"hostname": "one.test", "certificate": one},
            {"hostname": "two.test", "certificate": two},
        ],
    )
    services.update_api(api=catalog.api, policy_xml=TWO_REFUSED)
    certfile, keyfile = FALLBACK.write(tmp_path, "fallback")
    server = ServerProcess(
        "gateway", server_logs, args=("--certfile", certfile, "--keyfile", keyfile), tls=True
    )
    serve_current_catalog(server)
    yield server
    server.stop()


def test_sni_picks_each_host_names_certificate(tls_gateway):
    port = tls_gateway.port
    assert served_certificate(port, "one.test")[0] == ONE.thumbprint
    assert served_certificate(port, "two.test")[0] == TWO.thumbprint
    assert served_certificate(port, "fallback.test")[0] == FALLBACK.thumbprint
    assert served_certificate(port, None)[0] == FALLBACK.thumbprint
    _, version, cipher = served_certificate(port, "one.test")
    assert version in ("TLSv1.2", "TLSv1.3")
    assert "ECDHE" in cipher or version == "TLSv1.3"


def expiry_gauges(server) -> dict[str, float]:
    """portico_certificate_expiry_timestamp_seconds by host name, from /metrics over https."""
    status, _, body = server.get("/metrics")
    assert status == 200
    found = {}
    for line in body.decode().splitlines():
        if line.startswith("portico_certificate_expiry_timestamp_seconds{"):
            labels, value = line.rsplit(" ", 1)
            hostname = labels.split('hostname="', 1)[1].split('"', 1)[0]
            found[hostname] = float(value)
    return found


def test_certificate_expiry_is_a_prometheus_gauge(tls_gateway):
    assert expiry_gauges(tls_gateway) == {
        "one.test": ONE.cert.not_valid_after_utc.timestamp(),
        "two.test": TWO.cert.not_valid_after_utc.timestamp(),
    }


@pytest.mark.parametrize(
    "ciphers",
    ["ALL:@SECLEVEL=0", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0"],
    ids=["tls1.1", "cbc-without-aead"],
)
def test_old_protocols_and_ciphers_are_refused(tls_gateway, ciphers):
    """A client that would take TLS 1.1, or TLS 1.2 with CBC suites only (both of which a
    server with OpenSSL's defaults accepts), finds no common ground."""
    context = client_context()
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = (
        ssl.TLSVersion.TLSv1_1 if ciphers.startswith("ALL") else ssl.TLSVersion.TLSv1_2
    )
    context.set_ciphers(ciphers)
    with pytest.raises(ssl.SSLError):
        served_certificate(tls_gateway.port, "one.test", context)


def wss(server, host: str, path: str, **kwargs):
    """A wss:// connection to `host` (SNI and Host header) through the gateway's port."""
    return ws_connect(
        f"wss://{host}:{server.port}{path}",
        host="127.0.0.1",
        port=server.port,
        ssl=client_context(),
        **kwargs,
    )


def test_wss_relays_on_a_host_name_and_421_answers_another(tls_gateway, catalog):
    """one.test relays; two.test is refused by a policy reading context.Request.Url.Host; a
    name that is not the gateway's gets 421."""
    key = catalog.key

    async def relay():
        async with wss(tls_gateway, "one.test", f"/echo?subscription-key={key}") as ws:
            await ws.send("over tls")
            return await ws.recv()

    assert run(relay()) == "over tls"
    two = run(
        refused(
            f"wss://two.test:{tls_gateway.port}/echo?subscription-key={key}",
            host="127.0.0.1",
            port=tls_gateway.port,
            ssl=client_context(),
        )
    )
    assert two.status == 403
    result = run(
        refused(
            f"wss://fallback.test:{tls_gateway.port}/echo?subscription-key={key}",
            host="127.0.0.1",
            port=tls_gateway.port,
            ssl=client_context(),
        )
    )
    assert result.status == 421
    assert result.body["message"] == "This gateway does not serve this host name."
    assert "fallback.test" in tls_gateway.output()  # the reason is logged


def test_a_replaced_certificate_serves_new_handshakes_and_open_connections_stay(
    tls_gateway, catalog
):
    renewed = issue(CA, "one.test", dns_names=("one.test",))
    key = catalog.key

    async def scenario():
        async with wss(tls_gateway, "one.test", f"/echo?subscription-key={key}") as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            await asyncio.to_thread(rotate)
            thumbprint = (
                await asyncio.to_thread(served_certificate, tls_gateway.port, "one.test")
            )[0]
            await ws.send("after")
            return thumbprint, await ws.recv()

    def rotate():
        certificate = Certificate.objects.get(name="cert-one")
        services.replace_certificate(certificate=certificate, pem=renewed.pem)
        serve_current_catalog(tls_gateway)

    thumbprint, echoed = run(scenario())
    assert thumbprint == renewed.thumbprint != ONE.thumbprint
    assert expiry_gauges(tls_gateway)["one.test"] == renewed.cert.not_valid_after_utc.timestamp()
    assert echoed == "after"
    assert "PRIVATE KEY" not in tls_gateway.output()


def test_every_worker_gets_the_supervisors_tls_choice(tmp_path):
    """`run_gateway --workers N --certfile … --keyfile …` starts workers with the same flags."""
    from dataclasses import replace

    from gateway.config import GatewayConfig
    from gateway.management.commands.run_gateway import tls_options
    from gateway.server.workers import Supervisor

    config = GatewayConfig.from_settings()
    paired = replace(config, tls=True, tls_certfile="/c.pem", tls_keyfile="/k.pem")
    assert tls_options(replace(config, tls=False)) == []
    assert tls_options(replace(config, tls=True)) == ["--tls"]
    supervisor = Supervisor(
        host="127.0.0.1",
        port=1,
        workers=2,
        manage_py=tmp_path / "manage.py",
        drain_seconds=1,
        tls_options=tls_options(paired),
    )
    for worker in supervisor.workers:
        assert worker.command[-4:] == ["--certfile", "/c.pem", "--keyfile", "/k.pem"]
