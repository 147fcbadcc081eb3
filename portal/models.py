"""Portal-wide settings an admin can change, and personal access tokens for the REST API."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalAccessToken(models.Model):
    """A staff user's token for the management REST API; only its hash is stored."""

    PREFIX = "pat_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100)
    token_prefix = models.CharField(max_length=16, help_text="Shown to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @classmethod
    def new_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
