"""Client certificates (issue 27 items 4 and 6): a host name that negotiates them asks TLS
clients for one; validate-client-certificate answers 403 with a JSON body for a missing, expired,
revoked (CRL uploaded to the catalog) or foreign one; context.Request.Certificate reaches policy
expressions; behind a trusted proxy the certificate comes in X-Client-Cert, from nobody else."""

import ssl
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from websockets.exceptions import InvalidMessage

from apis import services
from tests.support.certs import crl_pem, expired_client, issue, make_ca
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

SERVER_CA = make_ca("Server CA")
CLIENT_CA = make_ca("Client CA")
FOREIGN_CA = make_ca("Foreign CA")
SERVER = issue(SERVER_CA, "one.test", dns_names=("one.test",))
VALID = issue(CLIENT_CA, "valid client", client=True)
EXPIRED = expired_client(CLIENT_CA)
REVOKED = issue(CLIENT_CA, "revoked client", client=True)
FOREIGN = issue(FOREIGN_CA, "foreign client", client=True)

POLICY = (
    "<policies><inbound><base />"
    '<validate-client-certificate validate-revocation="true" validate-trust="true" '
    'validate-not-before="true" validate-not-after="true">'
    '<identities><identity issuer-subject="CN=Client CA,O=Portico tests" /></identities>'
    "</validate-client-certificate>"
    '<set-header name="X-Client-CN" exists-action="override">'
    "<value>@(context.Request.Certificate.CommonName)</value></set-header>"
    "</inbound></policies>"
)


@pytest.fixture
def mtls_gateway(catalog, server_logs, tmp_path):
    server_cert = services.create_certificate(name="one", pem=SERVER.pem)
    services.create_certificate(
        name="client-ca", pem=CLIENT_CA.cert_pem, crl=crl_pem(CLIENT_CA, [REVOKED])
    )
    services.set_gateway_hostnames(
        gateway=catalog.gateway,
        hostnames=[
            {
                "hostname": "one.test",
                "certificate": server_cert,
                "negotiate_client_certificate": True,
            }
        ],
    )
    services.update_api(api=catalog.api, policy_xml=POLICY)
    # The same certificate as the default (no SNI: the readiness probe) asks for no client's.
    certfile, keyfile = SERVER.write(tmp_path, "default")
    server = ServerProcess(
        "gateway",
        server_logs,
        args=("--certfile", certfile, "--keyfile", keyfile),
        tls=True,
        PORTICO_TRUSTED_PROXIES="127.0.0.1/32",
    )
    serve_current_catalog(server)
    yield server
    server.stop()


def client_context(client=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=SERVER_CA.cert_pem)
    if client is not None:
        context.load_cert_chain(*client.write(_DIR, client.cert.subject.rfc4514_string()[:20]))
    return context


_DIR = None


@pytest.fixture(autouse=True)
def _cert_dir(tmp_path):
    global _DIR
    _DIR = tmp_path


def connect_kwargs(server, client=None) -> dict:
    return {"host": "127.0.0.1", "port": server.port, "ssl": client_context(client)}


def test_a_valid_client_certificate_connects_and_reaches_expressions(
    mtls_gateway, catalog, backend
):
    url = f"wss://one.test:{mtls_gateway.port}/echo?subscription-key={catalog.key}"

    async def relay():
        async with ws_connect(url, **connect_kwargs(mtls_gateway, VALID)) as ws:
            await ws.send("mtls")
            return await ws.recv()

    assert run(relay()) == "mtls"
    assert backend.requests[-1].headers["x-client-cn"] == "valid client"


@pytest.mark.parametrize(
    ("client", "reason"),
    [
        (None, "no client certificate"),
        (EXPIRED, "client certificate expired"),
        (REVOKED, "client certificate revoked"),
    ],
    ids=["none", "expired", "revoked"],
)
def test_failed_client_certificates_are_403(mtls_gateway, catalog, backend, client, reason):
    backend.reset()
    url = f"wss://one.test:{mtls_gateway.port}/echo?subscription-key={catalog.key}"
    result = run(refused(url, **connect_kwargs(mtls_gateway, client)))
    assert result.status == 403
    assert result.body["message"] == "Invalid client certificate."
    assert backend.requests == []
    assert reason in mtls_gateway.output()


def test_a_certificate_from_another_ca_fails_the_tls_handshake(mtls_gateway, catalog):
    url = f"wss://one.test:{mtls_gateway.port}/echo?subscription-key={catalog.key}"

    async def attempt():
        async with ws_connect(url, **connect_kwargs(mtls_gateway, FOREIGN)) as ws:
            await ws.send("x")
            await ws.recv()

    # TLS 1.3: the client has sent its certificate when the server's alert arrives, so the
    # refusal shows up as the connection closing before any HTTP response.
    with pytest.raises((ssl.SSLError, OSError, EOFError, InvalidMessage)):
        run(attempt())


def test_a_trusted_proxy_passes_the_certificate_in_a_header(mtls_gateway, catalog, backend):
    """127.0.0.1 is a trusted proxy here: its X-Client-Cert is read (and checked)."""
    url = f"wss://one.test:{mtls_gateway.port}/echo?subscription-key={catalog.key}"
    kwargs = connect_kwargs(mtls_gateway)
    foreign = {"X-Client-Cert": quote(FOREIGN.cert.public_bytes(Encoding.PEM).decode())}
    result = run(refused(url, additional_headers=foreign, **kwargs))
    assert result.status == 403
    assert "not issued by a trusted CA" in mtls_gateway.output()

    valid = {"X-Client-Cert": quote(VALID.cert.public_bytes(Encoding.PEM).decode())}

    async def relay():
        async with ws_connect(url, additional_headers=valid, **kwargs) as ws:
            await ws.send("proxied")
            return await ws.recv()

    assert run(relay()) == "proxied"
