"""Reads of personal access tokens: a user's, and the one a presented secret belongs to."""

from apis.models import PersonalAccessToken, hash_token


def access_tokens_of(user):
    return PersonalAccessToken.objects.filter(user=user).order_by("-created_at", "-pk")


def access_token_for(secret: str):
    """The token whose hash matches `secret` (lookup by hash: no timing on the secret), or None."""
    return (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=hash_token(secret))
        .first()
    )
