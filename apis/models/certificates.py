"""Certificates in the catalog (a chain with its private key, or a CA certificate alone) and the
public hostnames of gateways that serve them.

A private key is stored encrypted at rest (`apis.secretbox`, like secret named values): it is
never shown again, exported or logged, and reaches only the nodes of a gateway whose hostname
uses the certificate.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from apis import secretbox

EXPIRY_WARNING_DAYS = 30  # pages and the API warn this long before a certificate expires

validate_hostname = RegexValidator(
    r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    "Enter a host name such as api.example.com (lower case, no port, no scheme).",
    code="hostname",
)


class Certificate(models.Model):
    """An X.509 certificate (with its chain) the gateway serves, trusts or presents; the
    private key, when there is one, only as a Fernet token."""

    name = models.SlugField(max_length=80, unique=True)
    subject = models.CharField(max_length=1000, editable=False)
    issuer = models.CharField(max_length=1000, editable=False)
    thumbprint = models.CharField(max_length=40, editable=False)  # SHA-1, upper hex (as Azure)
    serial_number = models.CharField(max_length=80, editable=False)
    not_before = models.DateTimeField(editable=False)
    not_after = models.DateTimeField(editable=False)
    dns_names = models.JSONField(default=list, editable=False)
    chain_pem = models.TextField(editable=False)  # the certificate first, then its chain
    encrypted_key = models.TextField(blank=True, editable=False)  # Fernet token of the key PEM
    # A CA's certificate revocation list (PEM), uploaded with it: validate-client-certificate's
    # validate-revocation reads only these (no network fetch).
    crl_pem = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_private_key(self) -> bool:
        return bool(self.encrypted_key)

    def set_private_key(self, key_pem: str) -> None:
        self.encrypted_key = secretbox.encrypt_for("pem", key_pem)

    def private_key_pem(self) -> str:
        """The clear key, for the nodes that serve it only; never for display or export."""
        return secretbox.decrypt_stored(self.encrypted_key)


class GatewayHostname(models.Model):
    """A public host name of a gateway: its URLs use it, and TLS on it uses `certificate`."""

    gateway = models.ForeignKey("apis.Gateway", on_delete=models.CASCADE, related_name="hostnames")
    hostname = models.CharField(max_length=253, unique=True, validators=[validate_hostname])
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="hostnames",
        null=True,
        blank=True,
        help_text="Served for TLS on this host name (needs a private key).",
    )
    negotiate_client_certificate = models.BooleanField(
        default=False, help_text="Ask TLS clients for a certificate on this host name."
    )

    class Meta:
        ordering = ["gateway", "id"]

    def __str__(self) -> str:
        return self.hostname

    def clean(self) -> None:
        if self.certificate_id and not self.certificate.has_private_key:
            raise ValidationError(
                {"certificate": f"Certificate '{self.certificate.name}' has no private key."}
            )
