"""Sign-in with OpenID Connect (start and callback) and a sign-out that ends the provider's too.

The start and callback are mozilla-django-oidc's views with the endpoints from discovery; any
failure (provider away, wrong or replayed `state`, a code the provider refuses, a bad or expired
token) brings the visitor back to the sign-in page with a message, never signed in.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apis.permissions import is_publisher
from portal.oidc_discovery import ProviderUnavailable, discovery, oidc_setting

log = logging.getLogger("portico.oidc")


def _failed(request, reason: str) -> HttpResponseRedirect:
    name = settings.PORTICO_OIDC_PROVIDER_NAME
    messages.error(request, f"Signing in with {name} did not work: {reason} Please try again.")
    return redirect("login")


class OidcSignInView(OIDCAuthenticationRequestView):
    """Redirects to the provider's authorization endpoint (state, nonce and PKCE in the session)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs) -> None:
        self.unavailable = None
        try:
            super().__init__(*args, **kwargs)
        except ProviderUnavailable as exc:
            View.__init__(self, *args, **kwargs)
            self.unavailable = exc

    def get(self, request):
        if not settings.PORTICO_OIDC_ISSUER:
            return HttpResponseForbidden("Sign-in with OpenID Connect is not configured.")
        if self.unavailable is not None:
            log.warning("OpenID Connect provider unavailable: %s", self.unavailable)
            return _failed(request, "the identity provider cannot be reached.")
        return super().get(request)


class OidcCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back with `code` and `state`."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this browser never started, or one used
            log.warning("OpenID Connect callback refused: %s", exc)
            return self.login_failure()

    def login_failure(self):
        return _failed(self.request, "the sign-in was not confirmed.")

    @property
    def success_url(self):
        """As the sign-in page: without a ?next=, publishers land on the publisher home."""
        if not self.request.session.get("oidc_login_next") and is_publisher(self.user):
            return reverse("publisher:index")
        return super().success_url


@require_POST
def sign_out(request):
    """End the portal session; then, for a provider sign-in, the provider's session too (its
    end-session endpoint, when it offers one), which sends the browser back here."""
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    home = resolve_url(settings.LOGOUT_REDIRECT_URL)
    if not (id_token and settings.PORTICO_OIDC_ISSUER):
        return HttpResponseRedirect(home)
    try:
        end_session = discovery().get("end_session_endpoint")
    except ProviderUnavailable:
        end_session = None
    if not end_session:
        return HttpResponseRedirect(home)
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(home),
            "client_id": settings.PORTICO_OIDC_CLIENT_ID,
        }
    )
    return HttpResponseRedirect(f"{end_session}?{query}")
