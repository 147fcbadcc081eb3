"""Who reaches the publisher pages, the breadcrumbs of nested pages, and small helpers the page
modules share."""

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


# The publisher's sections: the first step of every breadcrumb trail (labels as in the
# publisher navigation, templates/apis/publisher_base.html).
SECTIONS = {
    "apis": ("APIs", "publisher:api-list"),
    "products": ("Products", "publisher:product-list"),
    "subscriptions": ("Subscriptions", "publisher:subscription-list"),
    "gateways": ("Gateways", "publisher:gateway-list"),
    "named-values": ("Named values", "publisher:named-value-list"),
    "fragments": ("Fragments", "publisher:fragment-list"),
}


def breadcrumbs(section: str, *steps: tuple[str, str | None]) -> list[dict]:
    """The way back from a nested publisher page: its section's list, then `steps` as
    (label, url); the last step is the page itself, shown but not linked."""
    label, url_name = SECTIONS[section]
    trail = [(label, reverse(url_name)), *steps]
    last = len(trail) - 1
    return [
        {"label": text, "url": None if i == last else url} for i, (text, url) in enumerate(trail)
    ]


def mask(secret: str) -> str:
    """A key as pages show it by default: its first four characters only."""
    return f"{secret[:4]}…{'•' * 6}" if secret else ""
