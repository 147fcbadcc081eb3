"""Gateway host names on the pages (issue 27 items 1 and 2): edited on the gateway page, listed
with their certificates' expiry (a warning 30 days before), used by every URL Portico shows
(publisher and portal API pages, the AsyncAPI export, connect tickets) and by the deployment
panel."""

from datetime import UTC, datetime, timedelta

import pytest

from apis import services
from apis.models import Certificate, Gateway
from tests.support.certs import issue, make_ca

pytestmark = pytest.mark.django_db

CA = make_ca()
VALID = issue(CA, "api.example.test", dns_names=("api.example.test",))
SOON = issue(CA, "soon.example.test", not_after=datetime.now(UTC) + timedelta(days=12))


@pytest.fixture
def admin_page(client, users):
    client.force_login(users["admin"])
    return client


def edit_form(gateway: Gateway, hostnames: str) -> dict:
    return {
        "name": gateway.name,
        "description": gateway.description,
        "apis": [a.pk for a in gateway.apis.all()],
        "hostnames": hostnames,
    }


def test_the_gateway_page_edits_host_names_and_warns_before_expiry(admin_page, objects):
    services.create_certificate(name="api-cert", pem=VALID.pem)
    services.create_certificate(name="soon-cert", pem=SOON.pem)
    edge = objects.gateway
    text = "api.example.test api-cert\nsoon.example.test soon-cert client-certificates\n"
    response = admin_page.post(f"/publisher/gateways/{edge.name}/", edit_form(edge, text))
    assert response.status_code == 302, response.content.decode()[:2000]
    rows = {h.hostname: h for h in edge.hostnames.all()}
    assert rows["api.example.test"].certificate.name == "api-cert"
    assert rows["soon.example.test"].negotiate_client_certificate is True

    html = admin_page.get(f"/publisher/gateways/{edge.name}/").content.decode()
    assert 'data-hostname="api.example.test"' in html and VALID.thumbprint in html
    soon_row = html.split('data-hostname="soon.example.test"', 1)[1].split("</tr>", 1)[0]
    api_row = html.split('data-hostname="api.example.test"', 1)[1].split("</tr>", 1)[0]
    assert 'data-role="expiry">Expires in' in soon_row
    assert 'data-role="expiry"' not in api_row
    assert "api.example.test api-cert\nsoon.example.test soon-cert client-certificates" in html
    # The deployment panel: the host names and TLS on 443.
    assert "ALLOWED_HOSTS=api.example.test,soon.example.test" not in html  # self-hosted: none
    assert "--port 443 --workers 2 --tls" in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("api.example.test missing-cert", "Line 1: no certificate named"),
        ("https://api.example.test", "Enter a host name"),
        ("a.example.test\na.example.test", "listed twice"),
    ],
)
def test_bad_host_names_are_shown_beside_the_field(admin_page, objects, text, message):
    edge = objects.gateway
    response = admin_page.post(f"/publisher/gateways/{edge.name}/", edit_form(edge, text))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["hostnames"])
    assert edge.hostnames.count() == 0


def test_every_url_shown_uses_the_gateways_host_names(admin_page, client_for, objects):
    managed = Gateway.objects.get(name="managed")
    services.set_gateway_hostnames(
        gateway=managed,
        hostnames=[{"hostname": "ws.example.test"}, {"hostname": "*.wild.example.test"}],
    )
    html = admin_page.get("/publisher/apis/chat/test/").content.decode()
    assert "wss://ws.example.test/chat" in html and "testserver/chat" not in html
    portal = admin_page.get("/apis/chat/").content.decode()
    assert "wss://ws.example.test/chat" in portal and "testserver/chat" not in portal
    document = client_for("publisher").get("/api/v1/apis/chat/asyncapi").json()
    assert [s["host"] for s in document["servers"].values()] == ["ws.example.test"] * len(
        document["servers"]
    )
    response = client_for("publisher").post(
        f"/api/v1/subscriptions/{objects.own.pk}/connectTickets/",
        {"api": "chat", "origin": "https://app.example"},
        format="json",
    )
    assert response.json()["url"].startswith("ws://ws.example.test/chat?ticket=")
    # The managed gateway's deployment panel names its host names for ALLOWED_HOSTS.
    panel = admin_page.get("/publisher/gateways/managed/").content.decode()
    assert "ALLOWED_HOSTS=*.wild.example.test,ws.example.test" in panel


def test_admin_uploads_a_certificate_and_never_shows_its_key(admin_page, objects):
    response = admin_page.post(
        "/admin/apis/certificate/add/", {"name": "admin-cert", "pem": VALID.pem, "password": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    certificate = Certificate.objects.get(name="admin-cert")
    assert certificate.thumbprint == VALID.thumbprint and certificate.has_private_key
    page = admin_page.get(f"/admin/apis/certificate/{certificate.pk}/change/").content.decode()
    assert VALID.thumbprint in page and "PRIVATE KEY" not in page
    bad = admin_page.post("/admin/apis/certificate/add/", {"name": "bad", "pem": "nope"})
    assert bad.status_code == 200 and "No PEM certificate found" in bad.content.decode()
    gateway_page = admin_page.get(f"/admin/apis/gateway/{objects.gateway.pk}/change/")
    assert (
        gateway_page.status_code == 200 and "hostnames-TOTAL_FORMS" in gateway_page.content.decode()
    )
