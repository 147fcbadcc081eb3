"""Reads of access tokens: a user's, an API's, and the one a presented secret belongs to."""

from apis.models import PersonalAccessToken, hash_token


def access_tokens_of(user):
    """A user's personal tokens (API-scoped ones are listed on their API's page)."""
    return PersonalAccessToken.objects.filter(user=user, api__isnull=True).order_by(
        "-created_at", "-pk"
    )


def api_tokens_of(api):
    """The API-scoped tokens of `api` (for its live connections), newest first."""
    return (
        PersonalAccessToken.objects.filter(api=api)
        .select_related("user")
        .order_by("-created_at", "-pk")
    )


def access_token_for(secret: str):
    """The token whose hash matches `secret` (lookup by hash: no timing on the secret), or None."""
    return (
        PersonalAccessToken.objects.select_related("user", "api")
        .filter(token_hash=hash_token(secret))
        .first()
    )
