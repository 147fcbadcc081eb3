"""Template context every page needs: the navigation a user may see."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from apis.permissions import is_publisher
from portal.models import PortalSettings


def navigation(request) -> dict:
    return {
        "is_publisher": is_publisher(request.user),
        # Lazy: only pages that show the Sign up link (anonymous visitors) read the setting.
        "signup_enabled": SimpleLazyObject(
            lambda: settings.PORTICO_LOCAL_ACCOUNTS and PortalSettings.current().signup_enabled
        ),
        "oidc_enabled": bool(settings.PORTICO_OIDC_ISSUER),
        "oidc_provider_name": settings.PORTICO_OIDC_PROVIDER_NAME,
        "local_accounts": settings.PORTICO_LOCAL_ACCOUNTS,
    }
