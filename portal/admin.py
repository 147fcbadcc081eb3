"""Django admin for the portal's own models: portal settings and personal access tokens."""

from django.contrib import admin

from portal.models import PersonalAccessToken, PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "signup_enabled", "portal_title", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not PortalSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "token_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "token_prefix")
    readonly_fields = ("token_prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request) -> bool:
        return False  # tokens are created in the portal, where the secret is shown once
