"""Reads what publishers upload as a certificate: PEM (chain, optionally with its key) or PFX
with a password, or a CA certificate alone; checks that key and certificate belong together.

Errors name the field and say what is wrong; they never quote the key or the password.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID
from django.core.exceptions import ValidationError

MAX_UPLOAD_CHARS = 200_000
_KEY_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S
)


@dataclass(frozen=True)
class ParsedCertificate:
    subject: str
    issuer: str
    thumbprint: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    dns_names: list[str]
    chain_pem: str
    key_pem: str  # "" for a certificate without a key (a CA, say)


def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 of the DER bytes in upper-case hex, as Azure and Windows show it."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - an identifier, not a MAC


def describe(cert: x509.Certificate, chain: list[x509.Certificate], key_pem: str):
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        dns_names = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    chain_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
    return ParsedCertificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        thumbprint=thumbprint(cert),
        serial_number=format(cert.serial_number, "X"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=list(dns_names),
        chain_pem=chain_pem,
        key_pem=key_pem,
    )


def _key_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _check_pair(key, cert: x509.Certificate, field: str) -> None:
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, public)
    theirs = cert.public_key().public_bytes(serialization.Encoding.DER, public)
    if mine != theirs:
        raise ValidationError({field: "The private key does not belong to the first certificate."})


def parse_pem(text: str) -> ParsedCertificate:
    """A chain (leaf first) with an optional unencrypted private key, in PEM."""
    if len(text) > MAX_UPLOAD_CHARS:
        raise ValidationError({"pem": f"Too long: at most {MAX_UPLOAD_CHARS} characters."})
    data = text.encode("utf-8", "replace")
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ValidationError(
            {"pem": "No PEM certificate found (-----BEGIN CERTIFICATE-----)."}
        ) from None
    key_pem = ""
    if b"PRIVATE KEY-----" in data:
        if b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data:
            raise ValidationError({"pem": "Upload the private key unencrypted (or as PFX)."})
        found = _KEY_BLOCK.search(data)
        try:
            key = serialization.load_pem_private_key(found.group(0), password=None)
        except (ValueError, TypeError, AttributeError):
            raise ValidationError({"pem": "The private key cannot be read."}) from None
        _check_pair(key, chain[0], "pem")
        key_pem = _key_pem(key)
    return describe(chain[0], chain, key_pem)


def parse_crl(text: str, ca_pem: str) -> str:
    """A CRL in PEM, signed by the CA certificate it is uploaded with; its PEM text."""
    if len(text) > MAX_UPLOAD_CHARS:
        raise ValidationError({"crl": f"Too long: at most {MAX_UPLOAD_CHARS} characters."})
    try:
        crl = x509.load_pem_x509_crl(text.encode("utf-8", "replace"))
    except ValueError:
        raise ValidationError({"crl": "No PEM CRL found (-----BEGIN X509 CRL-----)."}) from None
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    if crl.issuer != ca.subject or not crl.is_signature_valid(ca.public_key()):
        raise ValidationError({"crl": "The CRL is not signed by this certificate."})
    return crl.public_bytes(serialization.Encoding.PEM).decode()


def parse_pfx(encoded: str, password: str) -> ParsedCertificate:
    """A PKCS#12 file in base64, with its password (empty when it has none)."""
    if len(encoded) > MAX_UPLOAD_CHARS:
        raise ValidationError({"pfx": f"Too long: at most {MAX_UPLOAD_CHARS} characters."})
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"pfx": "Send the PFX file's bytes in base64."}) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            raw, password.encode() if password else None
        )
    except ValueError:
        raise ValidationError(
            {"password": "The PFX cannot be opened: a wrong password, or not a PFX file."}
        ) from None
    if cert is None:
        raise ValidationError({"pfx": "The PFX holds no certificate."})
    if key is not None:
        _check_pair(key, cert, "pfx")
    return describe(cert, [cert, *extra], _key_pem(key) if key is not None else "")
