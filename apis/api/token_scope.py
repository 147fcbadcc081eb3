"""API-scoped tokens in the management API: which views take them, and the API they are for.

An API-scoped token (PersonalAccessToken with `api`) authenticates only on views that say
`api_scoped_tokens = True` (the live connections); anywhere else it answers 403. Those views
limit it to its API: another API's connection, list or broadcast answers 403 too.
"""

from rest_framework import exceptions

SCOPE_REFUSED = "This token is scoped to the live connections of API {api!r} only."


def token_api(request):
    """The API an API-scoped token is for, or None (session, personal token, anonymous)."""
    token = getattr(request, "auth", None)
    return getattr(token, "api", None) if getattr(token, "api_id", None) else None


def scoped_api_id(request) -> int | None:
    token = getattr(request, "auth", None)
    return getattr(token, "api_id", None)


def refuse_outside_scope(token, view) -> None:
    """Called at authentication: an API-scoped token on a view that does not take them."""
    if token.api_id is not None and not getattr(view, "api_scoped_tokens", False):
        raise exceptions.PermissionDenied(SCOPE_REFUSED.format(api=token.api.name))


def check_api_scope(request, *, api_name: str = "", api_id: int | None = None) -> None:
    """403 when an API-scoped token names (or reaches) another API than its own."""
    api = token_api(request)
    if api is None:
        return
    if (api_name and api_name != api.name) or (api_id is not None and api_id != api.pk):
        raise exceptions.PermissionDenied(SCOPE_REFUSED.format(api=api.name))
