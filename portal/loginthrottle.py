"""Sign-in throttling with django-axes: whose address a sign-in comes from, and the lockout page.

Axes counts failed sign-ins per account and per client address (settings AXES_*); these two
hooks give it the project's one rule for client addresses and a page that says what to do.
"""

from math import ceil

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import ErrorList
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from gateway.policies.clientaddr import client_ip, parse_networks

LOCKOUT_STATUS = 429


def client_address(request: HttpRequest) -> str:
    """The socket peer, or the client a trusted proxy forwards (PORTICO_TRUSTED_PROXIES)."""
    peer = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return client_ip(peer, [forwarded], parse_networks(settings.PORTICO_TRUSTED_PROXIES))


def lockout_message() -> str:
    minutes = max(1, ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts; try again in {minutes} {unit} "
        "or ask an administrator to unlock your account."
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The sign-in page it came from (portal or admin), saying why it refuses, with 429."""
    message = lockout_message()
    if isinstance(original_response, TemplateResponse) and original_response.context_data:
        context = original_response.context_data
        form = context.get("form")
        if isinstance(form, AuthenticationForm):
            form.errors.clear()  # not "wrong password": the account or address is locked
            form.errors["__all__"] = ErrorList([message])
            original_response.content = original_response.rendered_content
            original_response.status_code = LOCKOUT_STATUS
            return original_response
    return HttpResponse(message, status=LOCKOUT_STATUS, content_type="text/plain; charset=utf-8")
