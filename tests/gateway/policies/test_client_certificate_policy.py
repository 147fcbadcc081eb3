"""validate-client-certificate as a pure policy (issue 27 item 4): each attribute and identity,
the 403 it answers, ignore-error, and save-time errors with the line."""

import pytest
from cryptography import x509
from policy_helpers import inbound, run_policy

from gateway.policies import PolicyError, parse_document
from gateway.policies.clientcert import ClientCertificate
from tests.support.certs import crl_pem, expired_client, issue, make_ca

CA = make_ca("Client CA")
OTHER = make_ca("Other CA")
GOOD = issue(CA, "device-1", client=True, dns_names=("device-1.example",))
REVOKED = issue(CA, "device-2", client=True)
CRLS = (x509.load_pem_x509_crl(crl_pem(CA, [REVOKED]).encode()),)


def check(xml_body: str, leaf, **extra):
    ctx = {
        "client_certificate": ClientCertificate(leaf.cert_pem) if leaf else None,
        "client_cas": (CA.cert,),
        "client_crls": CRLS,
        **extra,
    }
    refusal = run_policy(inbound(xml_body), **ctx)
    return None if refusal is None else (refusal.status, refusal.message, refusal.detail)


PLAIN = "<validate-client-certificate />"


@pytest.mark.parametrize(
    ("leaf", "reason"),
    [
        (GOOD, None),
        (None, "no client certificate"),
        (expired_client(CA), "client certificate expired"),
        (REVOKED, "client certificate revoked"),
        (issue(OTHER, "stranger", client=True), "client certificate not issued by a trusted CA"),
    ],
    ids=["good", "none", "expired", "revoked", "other-ca"],
)
def test_each_check_refuses_403_with_its_reason(leaf, reason):
    result = check(PLAIN, leaf)
    assert result == (None if reason is None else (403, "Invalid client certificate.", reason))


def test_checks_can_be_turned_off_and_errors_ignored():
    expired = expired_client(CA)
    assert check('<validate-client-certificate validate-not-after="false" />', expired) is None
    assert check('<validate-client-certificate validate-revocation="false" />', REVOKED) is None
    stranger = issue(OTHER, "stranger", client=True)
    assert check('<validate-client-certificate validate-trust="false" />', stranger) is None
    assert check('<validate-client-certificate ignore-error="true" />', None) is None


@pytest.mark.parametrize(
    ("identity", "matches"),
    [
        (f'thumbprint="{GOOD.thumbprint.lower()}"', True),
        ('thumbprint="00"', False),
        (f'serial-number="{format(GOOD.cert.serial_number, "X")}"', True),
        ('common-name="device-1"', True),
        ('common-name="device-9"', False),
        ('subject="O=Portico tests, CN=device-1"', True),
        ('dns-name="DEVICE-1.example"', True),
        ('issuer-subject="CN=Client CA,O=Portico tests"', True),
        (f'issuer-thumbprint="{CA.thumbprint}"', True),
        (f'issuer-thumbprint="{OTHER.thumbprint}"', False),
        ('common-name="device-1" dns-name="other.example"', False),  # all attributes must match
    ],
)
def test_identities(identity, matches):
    xml = (
        "<validate-client-certificate><identities><identity common-name='nobody' />"
        f"<identity {identity} /></identities></validate-client-certificate>"
    )
    result = check(xml, GOOD)
    assert (result is None) is matches
    if not matches:
        assert result[2] == "client certificate matches no identity"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('<validate-client-certificate validate-trust="maybe" />', "validate-trust"),
        ('<validate-client-certificate color="red" />', "color"),
        ("<validate-client-certificate><identities><identity /></identities>"
         "</validate-client-certificate>", "an identity needs at least one"),
    ],
)  # fmt: skip
def test_save_time_errors_name_the_line(body, words):
    with pytest.raises(PolicyError) as caught:
        parse_document(inbound(body), "api")
    assert words in str(caught.value) and "line" in str(caught.value)
