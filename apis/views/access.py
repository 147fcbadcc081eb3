"""Who reaches the publisher pages, and small helpers the page modules share."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from apis.permissions import is_publisher


def publisher_required(view):
    """Anonymous users go to the login page; signed-in non-publishers get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_publisher(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def optional_url(url_name: str, **kwargs) -> str | None:
    """The URL of a page another area may not have built yet; None until it exists."""
    try:
        return reverse(url_name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def safe_next(request, fallback: str) -> str:
    """The posted `next` address when it stays on this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def mask(secret: str) -> str:
    """A key as pages show it by default: its first four characters only."""
    return f"{secret[:4]}…{'•' * 6}" if secret else ""
