"""Publisher forms for named values and policy fragments (saved through `apis.services`)."""

from django import forms

from apis import services
from apis.forms import CatalogForm
from apis.models import NamedValue, PolicyFragment
from apis.validators import validate_fragment_id, validate_named_value_name


class NamedValueForm(CatalogForm):
    """Add or edit a named value. A secret's value is never put back into the page: the field
    is empty, and left empty it keeps the stored secret."""

    name = forms.CharField(
        max_length=256,
        validators=[validate_named_value_name],
        help_text="Policies write it as {{name}}: letters, digits, '.', '-' and '_'.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    secret = forms.BooleanField(
        required=False, help_text="Stored encrypted and never shown again; it can be replaced."
    )
    value = forms.CharField(required=False, strip=False, widget=forms.TextInput())

    def __init__(self, *args, instance: NamedValue | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "secret": instance.secret,
                "value": "" if instance.secret else instance.value,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A named value cannot be renamed."
        # A value that is (or is about to be) secret is masked, and never written back into
        # the page, not even after a validation error; the script masks it as Secret is ticked.
        secret_ticked = self.is_bound and self["secret"].value()
        if (instance is not None and instance.secret) or secret_ticked:
            self.fields["value"].widget = forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "new-password"}
            )
        else:
            self.fields["value"].widget.attrs["autocomplete"] = "off"
        self.fields["value"].widget.attrs["data-secret-value"] = ""
        if instance is not None and instance.secret:
            self.fields["value"].label = "New value"
            self.fields["value"].help_text = "Leave empty to keep the stored secret."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        others = NamedValue.objects.filter(name=name)
        if self.instance is None and others.exists():
            raise forms.ValidationError(f"A named value named '{name}' already exists.")
        return name

    def save(self) -> NamedValue | None:
        data = self.cleaned_data
        if self.instance is None:
            return self.save_with(
                services.create_named_value,
                name=data["name"],
                value=data["value"],
                secret=data["secret"],
                description=data["description"],
            )
        value = data["value"]
        if self.instance.secret and value == "":
            value = None  # keep the stored secret
        return self.save_with(
            services.update_named_value,
            named_value=self.instance,
            value=value,
            secret=data["secret"],
            description=data["description"],
        )


class PolicyFragmentForm(CatalogForm):
    """Add or edit a policy fragment: a `<fragment>` of policy elements."""

    name = forms.CharField(
        label="Fragment id",
        max_length=80,
        validators=[validate_fragment_id],
        help_text='Included with <include-fragment fragment-id="…" />.',
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    xml = forms.CharField(
        label="Fragment",
        strip=False,  # keep the lines where they are, so error line numbers match
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "false"}),
        initial="<fragment>\n    \n</fragment>\n",
    )

    def __init__(self, *args, instance: PolicyFragment | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "xml": instance.xml,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A fragment cannot be renamed."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance is None and PolicyFragment.objects.filter(name=name).exists():
            raise forms.ValidationError(f"A policy fragment named '{name}' already exists.")
        return name

    def clean_xml(self) -> str:
        return self.cleaned_data["xml"].replace("\r\n", "\n")

    def save(self) -> PolicyFragment | None:
        data = self.cleaned_data
        if self.instance is None:
            return self.save_with(
                services.create_policy_fragment,
                name=data["name"],
                xml=data["xml"],
                description=data["description"],
            )
        return self.save_with(
            services.update_policy_fragment,
            fragment=self.instance,
            xml=data["xml"],
            description=data["description"],
        )
