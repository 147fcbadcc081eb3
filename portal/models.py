"""Portal-wide settings an admin can change at run time."""

from django.db import models


class PortalSettings(models.Model):
    """Settings of the developer portal that admins change at run time (a single row)."""

    signup_enabled = models.BooleanField(
        default=True, help_text="Let visitors create their own developer accounts."
    )
    portal_title = models.CharField(max_length=100, default="Portico developer portal")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"

    def __str__(self) -> str:
        return "Portal settings"

    @classmethod
    def current(cls) -> "PortalSettings":
        return cls.objects.order_by("pk").first() or cls()
