"""Serializers of certificates and gateway host names: what is uploaded (PEM, or PFX with its
password), what is answered (never the key or the password), and a gateway's `hostnames` list."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apis import services
from apis.models import EXPIRY_WARNING_DAYS, Certificate, GatewayHostname
from apis.selectors.certificates import expiry_state


class CertificateSerializer(serializers.ModelSerializer):
    pem = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The certificate and its chain in PEM, leaf first, with its unencrypted "
        "private key (or without one: a CA certificate). Never returned.",
    )
    pfx = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="A PKCS#12 (PFX) file in base64, instead of pem. Never returned.",
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="The PFX file's password. Never stored.",
    )
    crl = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="For a CA certificate: its revocation list in PEM (validate-revocation reads "
        "only these). Sent alone, it replaces the CRL and keeps the certificate.",
    )
    has_crl = serializers.SerializerMethodField()
    has_private_key = serializers.BooleanField(read_only=True)
    expiry = serializers.SerializerMethodField(
        help_text=f"expired, expiring (within {EXPIRY_WARNING_DAYS} days) or valid."
    )
    hostnames = serializers.SlugRelatedField(slug_field="hostname", many=True, read_only=True)

    class Meta:
        model = Certificate
        fields = [
            "id",
            "name",
            "pem",
            "pfx",
            "password",
            "crl",
            "subject",
            "issuer",
            "thumbprint",
            "serial_number",
            "not_before",
            "not_after",
            "dns_names",
            "has_private_key",
            "has_crl",
            "expiry",
            "hostnames",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(["expired", "expiring", "valid"]))
    def get_expiry(self, certificate: Certificate) -> str:
        return expiry_state(certificate)

    def get_has_crl(self, certificate: Certificate) -> bool:
        return bool(certificate.crl_pem)

    def _upload(self, data: dict) -> dict:
        return {k: data.get(k, "") for k in ("pem", "pfx", "password", "crl")}

    def create(self, validated_data) -> Certificate:
        upload = self._upload(validated_data)
        return services.create_certificate(name=validated_data["name"], **upload)

    def update(self, instance: Certificate, validated_data) -> Certificate:
        if validated_data.get("name", instance.name) != instance.name:
            raise serializers.ValidationError({"name": "A certificate keeps its name."})
        return services.replace_certificate(certificate=instance, **self._upload(validated_data))


class HostnameSerializer(serializers.ModelSerializer):
    """One public host name of a gateway, as `hostnames` lists it."""

    hostname = serializers.CharField(max_length=253, validators=[])
    certificate = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Certificate.objects.all(),
        required=False,
        allow_null=True,
        help_text="The certificate's name; its expiry is in certificate_not_after.",
    )
    certificate_not_after = serializers.DateTimeField(
        source="certificate.not_after", read_only=True, default=None
    )

    class Meta:
        model = GatewayHostname
        fields = [
            "hostname",
            "certificate",
            "negotiate_client_certificate",
            "certificate_not_after",
        ]
