"""Certificates and gateway host names through the management API (issue 27 items 1 and 2):
PEM, PFX or a CA alone answered with name, subject, thumbprint, not_after, has_private_key; keys
stored encrypted, never answered or exported, delivered only to the gateway that uses them."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from apis.models import Certificate
from apis.selectors.gateway_catalog import gateway_catalog
from apis.wire import catalog_from_json, catalog_to_json
from tests.support.certs import issue, make_ca

pytestmark = pytest.mark.django_db

CA = make_ca()
SERVER = issue(CA, "api.example.test", dns_names=("api.example.test",))
OTHER = issue(CA, "other.example.test", dns_names=("other.example.test",))


def upload(client, name: str, **body):
    return client.post("/api/v1/certificates/", {"name": name, **body}, format="json")


def test_pem_with_key_is_described_and_the_key_never_answered(client_for):
    client = client_for("publisher")
    response = upload(client, "api-cert", pem=SERVER.pem)
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["name"] == "api-cert"
    assert body["subject"] == "CN=api.example.test,O=Portico tests"
    assert body["thumbprint"] == SERVER.thumbprint
    assert body["has_private_key"] is True and body["expiry"] == "valid"
    assert datetime.fromisoformat(body["not_after"]) == SERVER.cert.not_valid_after_utc
    listed = client.get("/api/v1/certificates/").content.decode()
    for text in (response.content.decode(), listed):
        assert "PRIVATE KEY" not in text and "pem" not in response.json()
    stored = Certificate.objects.get(name="api-cert")
    key_body = SERVER.key_pem.splitlines()[1]
    assert key_body not in stored.encrypted_key and "PRIVATE" not in stored.encrypted_key


def test_pfx_with_password_and_a_ca_alone(client_for):
    client = client_for("publisher")
    response = upload(client, "from-pfx", pfx=SERVER.pfx("pfx-pw-1"), password="pfx-pw-1")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["thumbprint"] == SERVER.thumbprint
    assert "pfx-pw-1" not in response.content.decode()
    response = upload(client, "test-ca", pem=CA.cert_pem)
    assert response.status_code == 201
    assert response.json()["has_private_key"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pfx": SERVER.pfx("right-pw"), "password": "wrong-pw"}, "password"),
        ({"pem": "not a certificate"}, "pem"),
        ({"pem": SERVER.cert_pem + OTHER.key_pem}, "pem"),
        ({"pfx": "***not base64***", "password": "x"}, "pfx"),
        ({}, "pem"),
    ],
)
def test_bad_uploads_answer_400_with_the_field_and_no_secret(client_for, body, field):
    response = upload(client_for("publisher"), "bad", **body)
    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    text = response.content.decode()
    assert "wrong-pw" not in text and "right-pw" not in text and "PRIVATE KEY" not in text


def test_expiry_warns_within_30_days(client_for):
    soon = issue(CA, "soon", not_after=datetime.now(UTC) + timedelta(days=10))
    response = upload(client_for("publisher"), "soon", pem=soon.pem)
    assert response.json()["expiry"] == "expiring"


def test_hostnames_carry_certificates_to_their_gateway_only(client_for, objects):
    client = client_for("publisher")
    assert upload(client, "api-cert", pem=SERVER.pem).status_code == 201
    assert upload(client, "test-ca", pem=CA.cert_pem).status_code == 201
    hostnames = [
        {"hostname": "api.example.test", "certificate": "api-cert"},
        {"hostname": "plain.example.test", "negotiate_client_certificate": True},
    ]
    response = client.patch("/api/v1/gateways/edge/", {"hostnames": hostnames}, format="json")
    assert response.status_code == 200, response.content[:300]
    shown = response.json()["hostnames"]
    assert [h["hostname"] for h in shown] == ["api.example.test", "plain.example.test"]
    assert shown[0]["certificate"] == "api-cert" and shown[0]["certificate_not_after"]
    assert shown[1]["negotiate_client_certificate"] is True

    edge = {h.hostname: h for h in gateway_catalog("edge").hostnames}
    assert edge["api.example.test"].key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert edge["api.example.test"].certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert edge["plain.example.test"].key_pem == ""
    assert gateway_catalog("managed").hostnames == ()  # another gateway gets no key
    # A self-hosted node's config carries them through JSON unchanged.
    config = json.loads(json.dumps(catalog_to_json(gateway_catalog("edge"))))
    assert catalog_from_json(config) == gateway_catalog("edge")
    assert "hostnames" not in catalog_to_json(gateway_catalog("managed"))
    exported = client.get("/api/v1/catalog/").content.decode()
    assert "PRIVATE KEY" not in exported

    # A CA certificate (no key) cannot serve TLS; a host name belongs to one gateway.
    wrong = [{"hostname": "api.example.test", "certificate": "test-ca"}]
    response = client.patch("/api/v1/gateways/edge/", {"hostnames": wrong}, format="json")
    assert response.status_code == 400
    assert "has no private key" in response.content.decode()
    taken = [{"hostname": "api.example.test"}]
    response = client.patch("/api/v1/gateways/managed/", {"hostnames": taken}, format="json")
    assert response.status_code == 400 and "belongs to gateway 'edge'" in response.content.decode()
    # In use: the certificate cannot be deleted.
    response = client.delete("/api/v1/certificates/api-cert/")
    assert response.status_code == 400 and "api.example.test" in response.content.decode()


def test_bad_hostname_is_refused_with_its_field(client_for, objects):
    bad = [{"hostname": "https://api.example.test:443"}]
    response = client_for("publisher").patch(
        "/api/v1/gateways/edge/", {"hostnames": bad}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "hostnames"


def test_export_and_apply_carry_host_names_never_keys(client_for, objects):
    client = client_for("publisher")
    assert upload(client, "api-cert", pem=SERVER.pem).status_code == 201
    hostnames = [{"hostname": "api.example.test", "certificate": "api-cert"}]
    client.patch("/api/v1/gateways/edge/", {"hostnames": hostnames}, format="json")
    exported = client.get("/api/v1/catalog/").json()
    edge = next(g for g in exported["gateways"] if g["name"] == "edge")
    assert edge["hostnames"] == [
        {
            "hostname": "api.example.test",
            "certificate": "api-cert",
            "negotiate_client_certificate": False,
        }
    ]
    managed = next(g for g in exported["gateways"] if g["name"] == "managed")
    assert "hostnames" not in managed

    again = client.post("/api/v1/catalog/apply/", exported, format="json")
    assert again.status_code == 200 and again.json()["updated"] == []
    edge["hostnames"].append({"hostname": "b.example.test", "negotiate_client_certificate": True})
    applied = client.post("/api/v1/catalog/apply/", exported, format="json")
    assert applied.json()["updated"] == ["gateway edge"]
    assert sorted(objects.gateway.hostnames.values_list("hostname", flat=True)) == [
        "api.example.test",
        "b.example.test",
    ]
    edge["hostnames"] = [{"hostname": "c.example.test", "certificate": "nope"}]
    refused = client.post("/api/v1/catalog/apply/", exported, format="json")
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert error["field"].endswith(".hostnames") and "nope" in error["message"]


def test_a_ca_carries_its_crl_to_every_gateway(client_for, objects):
    from tests.support.certs import crl_pem

    client = client_for("publisher")
    revoked = issue(CA, "revoked", client=True)
    crl = crl_pem(CA, [revoked])
    response = upload(client, "client-ca", pem=CA.cert_pem, crl=crl)
    assert response.status_code == 201 and response.json()["has_crl"] is True
    catalog = gateway_catalog("edge")
    assert CA.cert_pem in catalog.client_ca_pem and "BEGIN X509 CRL" in catalog.client_crl_pem
    assert upload(client, "server", pem=SERVER.pem).status_code == 201
    assert SERVER.cert_pem not in gateway_catalog("edge").client_ca_pem  # keyed: not a CA
    other = make_ca("Other CA")
    wrong = upload(client, "other-ca", pem=other.cert_pem, crl=crl)
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "crl"


def test_authentication_certificates_reach_only_gateways_whose_policies_name_them(objects):
    from apis import services

    services.create_certificate(name="gw-client", pem=OTHER.pem)
    policy = (
        "<policies><inbound><base />"
        '<authentication-certificate certificate-id="gw-client" /></inbound></policies>'
    )
    services.update_api(api=objects.api, policy_xml=policy)  # chat: on the managed gateway
    [(name, chain, key)] = gateway_catalog("managed").backend_certificates
    assert name == "gw-client" and chain.startswith("-----BEGIN CERTIFICATE-----")
    assert key.startswith("-----BEGIN PRIVATE KEY-----")
    assert gateway_catalog("edge").backend_certificates == ()  # serves no API naming it
