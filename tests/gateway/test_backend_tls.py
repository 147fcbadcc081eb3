"""Backends over TLS (issue 27 item 5): a wss:// backend is always verified, against the system
store or the API's CA certificate from the catalog; a backend whose certificate does not verify
is refused with 502 and the reason logged."""

import ssl

import pytest

from apis import services
from tests.support.backend import BackendServer
from tests.support.certs import issue, make_ca
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

CA = make_ca("Backend CA")
OTHER_CA = make_ca("Another CA")
BACKEND = issue(CA, "localhost", dns_names=("localhost",))


@pytest.fixture(scope="module")
def tls_backend(tmp_path_factory):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certfile, keyfile = BACKEND.write(tmp_path_factory.mktemp("backend-tls"), "backend")
    context.load_cert_chain(certfile, keyfile)
    server = BackendServer("localhost", ssl=context).start()
    yield server
    server.stop()


def test_backend_verified_against_the_apis_ca_and_refused_otherwise(gateway, catalog, tls_backend):
    services.update_api(api=catalog.api, backend_url=f"wss://localhost:{tls_backend.port}/")
    url = f"{gateway.ws_url}/echo?subscription-key={catalog.key}"

    serve_current_catalog(gateway)  # the system store does not know the tests' CA
    result = run(refused(url))
    assert result.status == 502 and result.body["message"] == "The backend is unreachable."
    assert "CERTIFICATE_VERIFY_FAILED" in gateway.output()

    ca = services.create_certificate(name="backend-ca", pem=CA.cert_pem)
    services.set_api_backend_ca(api=catalog.api, certificate=ca)
    serve_current_catalog(gateway)

    async def relay():
        async with ws_connect(url) as ws:
            await ws.send("verified")
            return await ws.recv()

    assert run(relay()) == "verified"

    other = services.create_certificate(name="other-ca", pem=OTHER_CA.cert_pem)
    services.set_api_backend_ca(api=catalog.api, certificate=other)
    serve_current_catalog(gateway)
    assert run(refused(url)).status == 502


def test_the_backend_ca_is_set_through_the_rest_api(client_for_publisher, catalog):
    services.create_certificate(name="backend-ca", pem=CA.cert_pem)
    response = client_for_publisher.patch(
        f"/api/v1/apis/{catalog.api.name}/", {"backend_ca_certificate": "backend-ca"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["backend_ca_certificate"] == "backend-ca"
    response = client_for_publisher.patch(
        f"/api/v1/apis/{catalog.api.name}/", {"backend_ca_certificate": "missing"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "backend_ca_certificate"


@pytest.fixture
def client_for_publisher(transactional_db):
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("root", password="pw-root-1"))
    return client


CLIENT_CA = make_ca("Backend client CA")
GATEWAY_CLIENT = issue(CLIENT_CA, "portico gateway", client=True)
MTLS_POLICY = (
    "<policies><inbound><base />"
    '<authentication-certificate certificate-id="gateway-client" />'
    "</inbound></policies>"
)


@pytest.fixture(scope="module")
def mtls_backend(tmp_path_factory):
    """A wss:// backend that requires a client certificate issued by CLIENT_CA."""
    directory = tmp_path_factory.mktemp("backend-mtls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*BACKEND.write(directory, "backend"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=CLIENT_CA.cert_pem)
    server = BackendServer("localhost", ssl=context).start()
    yield server
    server.stop()


def test_authentication_certificate_presents_a_catalog_certificate(gateway, catalog, mtls_backend):
    ca = services.create_certificate(name="backend-ca", pem=CA.cert_pem)
    services.update_api(api=catalog.api, backend_url=f"wss://localhost:{mtls_backend.port}/")
    services.set_api_backend_ca(api=catalog.api, certificate=ca)
    url = f"{gateway.ws_url}/echo?subscription-key={catalog.key}"
    serve_current_catalog(gateway)
    assert run(refused(url)).status == 502  # no client certificate: the backend refuses

    services.update_api(api=catalog.api, policy_xml=MTLS_POLICY)
    serve_current_catalog(gateway)
    missing = run(refused(url))  # named, but not in the catalog yet
    assert missing.status == 502
    assert missing.body["message"] == "The gateway cannot present the backend's client certificate."

    services.create_certificate(name="gateway-client", pem=GATEWAY_CLIENT.pem)
    serve_current_catalog(gateway)

    async def relay():
        async with ws_connect(url) as ws:
            await ws.send("mutual")
            return await ws.recv()

    assert run(relay()) == "mutual"
    assert "PRIVATE KEY" not in gateway.output()
