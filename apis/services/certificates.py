"""Writes to certificates and gateway host names: upload, replace and delete a certificate; set
a gateway's host names. Keyword-only, atomic, validated with full_clean()."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from apis.certificate_files import ParsedCertificate, parse_crl, parse_pem, parse_pfx
from apis.models import Api, Certificate, Gateway, GatewayHostname


def read_upload(*, pem: str = "", pfx: str = "", password: str = "") -> ParsedCertificate:
    """The certificate from exactly one of `pem` or `pfx` (+ `password`)."""
    if bool(pem) == bool(pfx):
        raise ValidationError({"pem": "Send either pem (PEM text) or pfx (base64), not both."})
    return parse_pem(pem) if pem else parse_pfx(pfx, password)


def _fill(certificate: Certificate, parsed: ParsedCertificate) -> None:
    certificate.subject = parsed.subject
    certificate.issuer = parsed.issuer
    certificate.thumbprint = parsed.thumbprint
    certificate.serial_number = parsed.serial_number
    certificate.not_before = parsed.not_before
    certificate.not_after = parsed.not_after
    certificate.dns_names = parsed.dns_names
    certificate.chain_pem = parsed.chain_pem
    certificate.encrypted_key = ""
    if parsed.key_pem:
        certificate.set_private_key(parsed.key_pem)


@transaction.atomic
def create_certificate(
    *, name: str, pem: str = "", pfx: str = "", password: str = "", crl: str = ""
) -> Certificate:
    certificate = Certificate(name=name)
    _fill(certificate, read_upload(pem=pem, pfx=pfx, password=password))
    if crl:
        certificate.crl_pem = parse_crl(crl, certificate.chain_pem)
    certificate.full_clean()
    certificate.save()
    return certificate


@transaction.atomic
def replace_certificate(
    *, certificate: Certificate, pem: str = "", pfx: str = "", password: str = "", crl: str = ""
) -> Certificate:
    """Rotate (and/or give a CA a new CRL): gateways use it for new handshakes."""
    if crl and not (pem or pfx):
        certificate.crl_pem = parse_crl(crl, certificate.chain_pem)
        certificate.save()
        return certificate
    parsed = read_upload(pem=pem, pfx=pfx, password=password)
    if certificate.hostnames.exists() and not parsed.key_pem:
        raise ValidationError(
            {"pem": "Host names serve this certificate: the new one needs its private key."}
        )
    _fill(certificate, parsed)
    certificate.crl_pem = parse_crl(crl, certificate.chain_pem) if crl else ""
    certificate.full_clean()
    certificate.save()
    return certificate


@transaction.atomic
def delete_certificate(*, certificate: Certificate) -> None:
    try:
        certificate.delete()
    except ProtectedError:
        used = ", ".join(certificate.hostnames.values_list("hostname", flat=True))
        raise ValidationError({"name": f"Host names use this certificate: {used}."}) from None


@transaction.atomic
def set_api_backend_ca(*, api: Api, certificate: Certificate | None) -> Api:
    """Verify the API's wss:// backend against `certificate`'s chain (None: the system store)."""
    api.backend_ca_certificate = certificate
    api.full_clean()
    api.save(update_fields=["backend_ca_certificate", "updated_at"])
    return api


@transaction.atomic
def set_gateway_hostnames(*, gateway: Gateway, hostnames: list[dict]) -> Gateway:
    """Make `hostnames` ({"hostname", "certificate": Certificate|None,
    "negotiate_client_certificate"}) exactly the gateway's host names."""
    seen: set[str] = set()
    rows = []
    for index, entry in enumerate(hostnames):
        name = str(entry.get("hostname", "")).strip().lower().rstrip(".")
        if name in seen:
            raise ValidationError({"hostnames": f"[{index}] {name} is listed twice."})
        seen.add(name)
        row = GatewayHostname.objects.filter(hostname=name).first() or GatewayHostname(
            hostname=name
        )
        if row.pk and row.gateway_id != gateway.pk:
            raise ValidationError(
                {"hostnames": f"[{index}] {name} belongs to gateway '{row.gateway.name}'."}
            )
        row.gateway = gateway
        row.certificate = entry.get("certificate")
        row.negotiate_client_certificate = bool(entry.get("negotiate_client_certificate"))
        try:
            row.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {
                    "hostnames": [
                        f"[{index}] {k}: {' '.join(v)}" for k, v in exc.message_dict.items()
                    ]
                }
            ) from None
        rows.append(row)
    gateway.hostnames.exclude(hostname__in=seen).delete()
    for row in rows:
        row.save()
    return gateway
