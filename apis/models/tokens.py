"""Personal access tokens for the management REST API (the catalog's side: `apis` owns them)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalAccessToken(models.Model):
    """A staff user's token for the management REST API, or an API-scoped token for one API's
    live connections; only its hash is stored."""

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
    # An API-scoped token: it may only list, send to, broadcast to and close this API's live
    # connections (a backend service pushing to its own clients); every other endpoint answers
    # 403. Its user is the publisher who created it.
    api = models.ForeignKey(
        "apis.Api",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="connection_tokens",
    )

    class Meta:
        app_label = "apis"
        db_table = "portal_personalaccesstoken"  # created by the portal app, where it used to live
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

    def refusal(self) -> str | None:
        """Why this token cannot authenticate now, or None when it can.

        The one rule: a token works while it is neither revoked nor expired and its user is
        active staff (only staff can create tokens; losing staff or being deactivated ends them).
        """
        if not self.is_active:
            return "Invalid, revoked or expired token."
        if not self.user.is_active:
            return "This token's user is deactivated."
        if not self.user.is_staff:
            return "This token's user is no longer staff: tokens work only for staff users."
        return None
