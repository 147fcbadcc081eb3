"""The policy library: named values and policy fragments, and the environment they make, in
which every stored policy document is resolved and checked when it is saved."""

from django.core.exceptions import ValidationError
from django.db import models

from apis import secretbox
from apis.policy_resolution import (
    PolicyEnvironment,
    document_error,
    environment_of,
    fragment_error,
)
from apis.validators import (
    check_broker_credentials,
    validate_fragment_id,
    validate_named_value_name,
)
from gateway.policies.namedvalues import referenced_names


class NamedValue(models.Model):
    """A `{{name}}` policies use: plain text, or a secret kept encrypted and never shown."""

    name = models.CharField(
        max_length=256,
        unique=True,
        validators=[validate_named_value_name],
        help_text="Letters, digits, '.', '-' and '_'; policies write it as {{name}}.",
    )
    description = models.TextField(blank=True)
    secret = models.BooleanField(
        default=False, help_text="Stored encrypted; never shown again, only replaced."
    )
    value = models.TextField(blank=True, help_text="The value of a plain named value.")
    # Fernet token of a secret's value (apis.secretbox); empty for a plain one.
    encrypted_value = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.secret and self.value:
            raise ValidationError({"value": "A secret's value is stored encrypted, not here."})
        if "{{" in (self.value or ""):
            raise ValidationError({"value": "A named value cannot contain another ({{…}})."})

    def set_secret_value(self, clear: str) -> None:
        if "{{" in clear:
            raise ValidationError({"value": "A named value cannot contain another ({{…}})."})
        encrypted = secretbox.encrypt_for("secret", clear)
        self.secret, self.value, self.encrypted_value = True, "", encrypted

    def resolved_value(self) -> str:
        """The clear value (decrypted for a secret): for policies only, never for display."""
        if not self.secret:
            return self.value
        return secretbox.decrypt_stored(self.encrypted_value)


class PolicyFragment(models.Model):
    """Policies written once and included with `<include-fragment fragment-id="…"/>`."""

    name = models.CharField(
        "fragment id",
        max_length=80,
        unique=True,
        validators=[validate_fragment_id],
        help_text="Letters, digits, '.', '-' and '_'.",
    )
    description = models.TextField(blank=True)
    xml = models.TextField(
        "fragment", help_text="<fragment> holding policy elements; may use {{named values}}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_fragment(self.xml, fragment_id=self.name, field="xml")


def policy_environment(
    *, values: dict[str, str] | None = None, fragments: dict[str, str] | None = None
) -> PolicyEnvironment:
    """The catalog's named values and fragments; `values`/`fragments` override (unsaved edits;
    a None text removes the fragment)."""
    rows = {row.name: row for row in NamedValue.objects.all()}
    texts = dict(PolicyFragment.objects.values_list("name", "xml"))
    return environment_of(rows, texts, values=values, fragments=fragments)


def check_policy_document(xml: str, *, scope: str, field: str) -> None:
    """Raise a field ValidationError naming the element and line when the document is invalid."""
    if not xml or not xml.strip():
        return
    error = document_error(xml, scope, policy_environment())
    if error:
        raise ValidationError({field: error})


def check_fragment(xml: str, *, fragment_id: str, field: str) -> None:
    if not xml or not xml.strip():
        raise ValidationError({field: "A policy fragment needs a <fragment> element."})
    env = policy_environment(fragments={fragment_id: xml} if fragment_id else None)
    error = fragment_error(xml, fragment_id, env)
    if error:
        raise ValidationError({field: error})


def check_broker_url_values(backend_url: str) -> None:
    """The named values a broker URL's password or token refers to exist and are secret."""
    if "{{" not in (backend_url or ""):
        return
    named = NamedValue.objects.filter(name__in=referenced_names(backend_url))
    secrets = dict(named.values_list("name", "secret"))
    check_broker_credentials(backend_url, secrets)
