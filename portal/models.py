"""Portal-wide settings an admin can change at run time."""

from django.conf import settings
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


class AccountActivation(models.Model):
    """Marks that an account's sign-up link was used: an activation link works once, ever."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_activation"
    )
    activated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Activation of {self.user}"


def mark_activated(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """post_save of a user: an account that is active, however it got there (sign-up link, an
    admin's Active checkbox, createsuperuser), is past activation: its link stays dead even if
    an admin deactivates it later."""
    if update_fields is not None and "is_active" not in update_fields:
        return  # e.g. the last_login update at every sign-in
    if instance.is_active:
        AccountActivation.objects.get_or_create(user=instance)


class OidcIdentity(models.Model):
    """The OpenID Connect account (issuer and subject) a user signs in with: how a returning
    user is found. Never the e-mail address, which a provider may not have verified."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OpenID Connect identity"
        verbose_name_plural = "OpenID Connect identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
