"""The client certificate of a handshake, as policies read it (`context.Request.Certificate`),
and `validate-client-certificate` (Azure's attributes and identities): 403 when it fails.

Trust is checked here, one level: the certificate must be directly issued (signature and
issuer name) by one of the CA certificates in the catalog; revocation only against CRLs uploaded
to the catalog (never fetched from the network).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element, SubElement

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from .context import HandshakeContext, Refusal
from .model import Attrs, Policy, Step, children
from .xmlnode import Node

if TYPE_CHECKING:
    from .runtime import PolicyRuntime

IDENTITY_ATTRIBUTES = (
    "thumbprint",
    "serial-number",
    "common-name",
    "subject",
    "dns-name",
    "issuer-subject",
    "issuer-thumbprint",
)


def thumbprint_of(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()  # noqa: S324 - an id


class ClientCertificate:
    """A client's certificate (PEM), parsed on first use."""

    def __init__(self, pem: str) -> None:
        self.pem = pem

    @cached_property
    def cert(self) -> x509.Certificate | None:
        try:
            return x509.load_pem_x509_certificate(self.pem.encode())
        except ValueError:
            return None

    @cached_property
    def thumbprint(self) -> str:
        return thumbprint_of(self.cert) if self.cert else ""

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string() if self.cert else ""

    @property
    def issuer(self) -> str:
        return self.cert.issuer.rfc4514_string() if self.cert else ""

    @property
    def serial_number(self) -> str:
        return format(self.cert.serial_number, "X") if self.cert else ""

    @property
    def common_name(self) -> str:
        if not self.cert:
            return ""
        found = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(found[0].value) if found else ""

    @property
    def not_before(self) -> datetime | None:
        return self.cert.not_valid_before_utc if self.cert else None

    @property
    def not_after(self) -> datetime | None:
        return self.cert.not_valid_after_utc if self.cert else None

    @property
    def dns_names(self) -> list[str]:
        if not self.cert:
            return []
        try:
            san = self.cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        except x509.ExtensionNotFound:
            return []
        return san.value.get_values_for_type(x509.DNSName)

    def issuing_ca(self, cas) -> x509.Certificate | None:
        """The CA among `cas` that signed this certificate directly, if any."""
        for ca in cas:
            if ca.subject != self.cert.issuer:
                continue
            try:
                self.cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue  # noqa: S112 - not this CA: try the next
            return ca
        return None

    def revoked(self, crls, issuer: x509.Certificate | None) -> bool:
        for crl in crls:
            if crl.issuer != self.cert.issuer:
                continue
            if issuer is not None and not crl.is_signature_valid(issuer.public_key()):
                continue
            if crl.get_revoked_certificate_by_serial_number(self.cert.serial_number) is not None:
                return True
        return False


@dataclass(frozen=True, kw_only=True)
class ValidateClientCertificate(Policy):
    """Refuse (403) a handshake whose client certificate is missing, untrusted, outside its
    dates, revoked, or none of the listed identities."""

    tag: ClassVar[str] = "validate-client-certificate"
    validate_revocation: bool = True
    validate_trust: bool = True
    validate_not_before: bool = True
    validate_not_after: bool = True
    ignore_error: bool = False
    identities: tuple[tuple[tuple[str, str], ...], ...] = ()

    @classmethod
    def parse(cls, node: Node) -> ValidateClientCertificate:
        a = Attrs(node)
        flags = {
            name.replace("-", "_"): a.boolean(name, default)
            for name, default in (
                ("validate-revocation", True),
                ("validate-trust", True),
                ("validate-not-before", True),
                ("validate-not-after", True),
                ("ignore-error", False),
            )
        }
        a.done()
        identities = []
        for group in children(node, ("identities",)):
            Attrs(group).done()
            for identity in children(group, ("identity",)):
                ia = Attrs(identity)
                pairs = tuple(
                    (name, value)
                    for name in IDENTITY_ATTRIBUTES
                    if (value := ia.text(name)) is not None
                )
                ia.done()
                if not pairs:
                    raise identity.error(
                        "an identity needs at least one of " + ", ".join(IDENTITY_ATTRIBUTES)
                    )
                identities.append(pairs)
        return cls(**flags, identities=tuple(identities), line=node.line)

    def to_element(self) -> Element:
        attrs = {}
        for name, default in (
            ("validate-revocation", True),
            ("validate-trust", True),
            ("validate-not-before", True),
            ("validate-not-after", True),
            ("ignore-error", False),
        ):
            value = getattr(self, name.replace("-", "_"))
            if value != default:
                attrs[name] = "true" if value else "false"
        el = Element(self.tag, attrs)
        if self.identities:
            group = SubElement(el, "identities")
            for pairs in self.identities:
                SubElement(group, "identity", dict(pairs))
        return el

    def compile(self, runtime: PolicyRuntime) -> Step:
        def failure(ctx: HandshakeContext) -> str | None:
            """Why the certificate fails (None: it passes)."""
            cert = ctx.client_certificate
            if cert is None or cert.cert is None:
                return "no client certificate"
            now = datetime.now(UTC)
            if self.validate_not_before and cert.not_before > now:
                return "client certificate not yet valid"
            if self.validate_not_after and cert.not_after < now:
                return "client certificate expired"
            issuer = cert.issuing_ca(ctx.client_cas)
            if self.validate_trust and issuer is None:
                return "client certificate not issued by a trusted CA"
            if self.validate_revocation and cert.revoked(ctx.client_crls, issuer):
                return "client certificate revoked"
            issuer_thumbprint = thumbprint_of(issuer) if issuer is not None else ""
            if self.identities and not any(
                _matches(cert, pairs, issuer_thumbprint) for pairs in self.identities
            ):
                return "client certificate matches no identity"
            return None

        async def step(ctx: HandshakeContext) -> Refusal | None:
            reason = failure(ctx)
            if reason is None or self.ignore_error:
                return None
            return Refusal(403, "Invalid client certificate.", detail=reason)

        return step


def _matches(cert: ClientCertificate, pairs, issuer_thumbprint: str) -> bool:
    """Whether the certificate has every attribute of one <identity>."""
    found = {
        "thumbprint": lambda w: cert.thumbprint == w.upper(),
        "serial-number": lambda w: cert.serial_number == w.upper().lstrip("0"),
        "common-name": lambda w: cert.common_name == w,
        "subject": lambda w: _same_name(cert.subject, w),
        "dns-name": lambda w: w.lower() in [d.lower() for d in cert.dns_names],
        "issuer-subject": lambda w: _same_name(cert.issuer, w),
        "issuer-thumbprint": lambda w: bool(issuer_thumbprint) and issuer_thumbprint == w.upper(),
    }
    return all(found[name](wanted) for name, wanted in pairs)


def _same_name(a: str, b: str) -> bool:
    """Distinguished names compared without spaces around separators, order-insensitive."""

    def parts(text: str) -> set[str]:
        return {p.strip().replace(" = ", "=").replace("= ", "=") for p in text.split(",")}

    return parts(a) == parts(b)
