"""Writes to personal access tokens: create (the secret shown once), revoke, record a use."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apis.models import PersonalAccessToken, hash_token

TOKEN_TOUCH_SECONDS = 60  # last_used_at is written at most once a minute per token


@transaction.atomic
def create_access_token(*, user: AbstractBaseUser, name: str, expires_at=None, api=None):
    """Create a token; returns (token, secret). Only the hash is stored: show the secret once.

    With `api` it is an API-scoped token: that API's live connections only."""
    secret = PersonalAccessToken.new_secret()
    token = PersonalAccessToken(
        user=user,
        api=api,
        name=name,
        token_prefix=secret[:12],
        token_hash=hash_token(secret),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def revoke_access_token(*, token) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def touch_access_token(*, token) -> None:
    """Record a use, at most once a minute (a conditional update, no read-modify-write)."""
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < TOKEN_TOUCH_SECONDS:
        return
    stale = now - timedelta(seconds=TOKEN_TOUCH_SECONDS)
    PersonalAccessToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
