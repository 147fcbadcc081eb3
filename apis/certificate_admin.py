"""Admin for certificates (the key is write-only: uploaded, never rendered) and gateway host
names (inline on the gateway). Writes go through `apis.services`."""

import base64

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apis import services
from apis.models import Certificate, GatewayHostname
from apis.selectors.certificates import expiry_state

DESCRIBED = (
    "subject",
    "issuer",
    "thumbprint",
    "serial_number",
    "not_before",
    "not_after",
    "dns_names",
    "has_private_key",
)


class CertificateAdminForm(forms.ModelForm):
    pem = forms.CharField(
        label="PEM",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="The chain, leaf first, and its unencrypted key (never shown again); or a CA "
        "certificate alone. On an existing certificate, a new one here replaces it.",
    )
    pfx = forms.FileField(label="PFX file", required=False, help_text="Instead of PEM.")
    password = forms.CharField(
        label="PFX password", required=False, strip=False, widget=forms.PasswordInput()
    )

    class Meta:
        model = Certificate
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True

    def _post_clean(self) -> None:
        """Save through the services (they parse, check and encrypt); errors land on fields."""
        self.saved = None
        if self.errors:
            return
        data = self.cleaned_data
        upload = {"pem": data.get("pem") or "", "password": data.get("password") or ""}
        if data.get("pfx"):
            upload["pfx"] = base64.b64encode(data["pfx"].read()).decode()
        try:
            if not self.instance.pk:
                self.saved = services.create_certificate(name=data["name"], **upload)
            elif upload["pem"] or upload.get("pfx"):
                current = Certificate.objects.get(pk=self.instance.pk)
                self.saved = services.replace_certificate(certificate=current, **upload)
            else:
                self.saved = self.instance
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    form = CertificateAdminForm
    list_display = ("name", "subject", "thumbprint", "not_after", "expiry", "has_private_key")
    search_fields = ("name", "subject", "thumbprint")
    readonly_fields = DESCRIBED

    @admin.display(description="expiry")
    def expiry(self, obj: Certificate) -> str:
        return expiry_state(obj)

    @admin.display(boolean=True, description="private key")
    def has_private_key(self, obj: Certificate) -> bool:
        return obj.has_private_key

    def save_model(self, request, obj, form, change) -> None:
        """Saved in the form's clean() through the services."""
        obj.__dict__.update(form.saved.__dict__)

    def delete_model(self, request, obj) -> None:
        services.delete_certificate(certificate=obj)


class GatewayHostnameInline(admin.TabularInline):
    """A gateway's host names, on its admin page."""

    model = GatewayHostname
    extra = 0
    fields = ("hostname", "certificate", "negotiate_client_certificate")
