"""`portico certificate …` and `portico gateway hostnames …` against a live server (issue 27
items 1 and 2): upload PEM or PFX, rotate, list; set host names; never a key or a password."""

import base64
import json

import pytest

from apis import services
from apis.models import Certificate, GatewayHostname
from tests.support.certs import issue, make_ca

pytestmark = pytest.mark.django_db(transaction=True)

CA = make_ca()
LEAF = issue(CA, "api.example.test", dns_names=("api.example.test",))
RENEWED = issue(CA, "api.example.test", dns_names=("api.example.test",))


def test_certificates_and_host_names_from_the_command_line(portico, tmp_path):
    services.ensure_builtin_gateway()  # an earlier test's flush may have taken the data migration's
    (tmp_path / "api.pem").write_text(LEAF.pem)
    done = portico("certificate", "upload", "api-cert", "--pem", "api.pem")
    assert done.code == 0, done.err
    assert LEAF.thumbprint in done.out and "PRIVATE KEY" not in done.out

    done = portico("gateway", "hostnames", "managed", "api.example.test=api-cert+client")
    assert done.code == 0, done.err
    row = GatewayHostname.objects.get(hostname="api.example.test")
    assert row.certificate.name == "api-cert" and row.negotiate_client_certificate

    (tmp_path / "renewed.pfx").write_bytes(base64.b64decode(RENEWED.pfx("pfx-pw")))
    done = portico(
        "certificate", "upload", "api-cert", "--pfx", "renewed.pfx", "--password-env", "PFX_PW",
        PFX_PW="pfx-pw",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert Certificate.objects.get(name="api-cert").thumbprint == RENEWED.thumbprint
    listed = json.loads(portico("--json", "certificate", "list").out)
    assert [c["name"] for c in listed] == ["api-cert"]
    assert "pfx-pw" not in json.dumps(listed)

    refused = portico("certificate", "delete", "api-cert")
    assert refused.code != 0 and "api.example.test" in refused.err
    assert portico("gateway", "hostnames", "managed").code == 0  # none: all removed
    assert portico("certificate", "delete", "api-cert").code == 0
    assert not Certificate.objects.exists()
