"""Admin for named values (a secret is write-only: never rendered, only replaced) and fragments.
Writes go through `apis.services`, which check every policy that uses the object first."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apis import services
from apis.models import NamedValue, PolicyFragment
from apis.policy_validation import users


class NamedValueAdminForm(forms.ModelForm):
    new_value = forms.CharField(
        label="Value",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="For a secret this is never shown: leave empty to keep the stored one.",
    )

    class Meta:
        model = NamedValue
        fields = ["name", "description", "secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.instance.secret:
            self.fields["new_value"].widget = forms.TextInput()
            self.fields["new_value"].initial = self.instance.value
            self.fields["new_value"].help_text = ""
        if self.instance.pk:
            self.fields["name"].disabled = True

    def _post_clean(self) -> None:
        """Save through the services instead of the model form's own validation: they encrypt
        a secret and check every policy using the value (errors land on the fields)."""
        self.saved = None
        if self.errors:
            return
        try:
            self.saved = self._save_through_services(self.cleaned_data)
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for field, messages in errors.items():
                target = "new_value" if field == "value" else field
                self.add_error(target if target in self.fields else None, messages)

    def _save_through_services(self, data):
        value = data.get("new_value", "")
        if not self.instance.pk:
            return services.create_named_value(
                name=data["name"],
                value=value,
                secret=data["secret"],
                description=data["description"],
            )
        current = NamedValue.objects.get(pk=self.instance.pk)
        return services.update_named_value(
            named_value=current,
            value=None if current.secret and value == "" else value,
            secret=data["secret"],
            description=data["description"],
        )


@admin.register(NamedValue)
class NamedValueAdmin(admin.ModelAdmin):
    form = NamedValueAdminForm
    list_display = ("name", "secret", "shown_value", "used_by")
    search_fields = ("name", "description")

    @admin.display(description="value")
    def shown_value(self, obj: NamedValue) -> str:
        return "••••••••" if obj.secret else obj.value[:80]

    @admin.display(description="used by")
    def used_by(self, obj: NamedValue) -> str:
        return ", ".join(d.label for d in users(named_value=obj.name)) or "—"

    def save_model(self, request, obj, form, change) -> None:
        """Saved in the form's clean() through the services (so errors land on fields)."""
        obj.__dict__.update(form.saved.__dict__)

    def delete_model(self, request, obj) -> None:
        services.delete_named_value(named_value=obj)

    def delete_queryset(self, request, queryset) -> None:
        """The bulk action too refuses (and names) what policies still use."""
        _delete_each(request, self, queryset, lambda o: services.delete_named_value(named_value=o))

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and users(named_value=obj.name):
            return False  # in use: the page names the policies that use it
        return super().has_delete_permission(request, obj)


@admin.register(PolicyFragment)
class PolicyFragmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "used_by")
    search_fields = ("name", "description")

    @admin.display(description="used by")
    def used_by(self, obj: PolicyFragment) -> str:
        return ", ".join(d.label for d in users(fragment=obj.name)) or "—"

    def save_model(self, request, obj, form, change) -> None:
        if change:
            current = PolicyFragment.objects.get(pk=obj.pk)
            services.update_policy_fragment(
                fragment=current, xml=obj.xml, description=obj.description
            )
        else:
            services.create_policy_fragment(name=obj.name, xml=obj.xml, description=obj.description)

    def delete_model(self, request, obj) -> None:
        services.delete_policy_fragment(fragment=obj)

    def delete_queryset(self, request, queryset) -> None:
        _delete_each(request, self, queryset, lambda o: services.delete_policy_fragment(fragment=o))

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and users(fragment=obj.name):
            return False
        return super().has_delete_permission(request, obj)


def _delete_each(request, model_admin, queryset, delete) -> None:
    for obj in queryset:
        try:
            delete(obj)
        except services.InUse as exc:
            model_admin.message_user(request, str(exc), messages.ERROR)
