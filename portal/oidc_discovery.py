"""The OpenID Connect provider's endpoints, read from its discovery document and kept an hour.

mozilla-django-oidc takes its endpoints as settings; Portico takes only the issuer
(`PORTICO_OIDC_ISSUER`) and finds them here, at sign-in time, so the portal starts even while
the provider is away.
"""

import threading
import time

import requests
from django.conf import settings
from mozilla_django_oidc.utils import import_from_settings

KEEP_SECONDS = 3600
# mozilla-django-oidc's setting -> the discovery document's field.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_lock = threading.Lock()
_cached: dict = {}


class ProviderUnavailable(Exception):
    """The discovery document could not be read, or does not describe the configured issuer."""


def discovery() -> dict:
    issuer = settings.PORTICO_OIDC_ISSUER
    with _lock:
        found = _cached.get(issuer)
        if found and found[0] > time.monotonic():
            return found[1]
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {type(exc).__name__}") from None
    # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one configured.
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable("the discovery document names another issuer")
    if not all(document.get(field) for field in DISCOVERED.values()):
        raise ProviderUnavailable("the discovery document lacks an endpoint")
    with _lock:
        _cached[issuer] = (time.monotonic() + KEEP_SECONDS, document)
    return document


def oidc_setting(attr: str, *args):
    """mozilla-django-oidc's `get_settings`, with the endpoints taken from discovery."""
    if attr in DISCOVERED:
        return discovery()[DISCOVERED[attr]]
    return import_from_settings(attr, *args)
