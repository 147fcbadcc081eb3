"""Template context every page needs: the navigation a user may see."""

from django.utils.functional import SimpleLazyObject

from apis.permissions import is_publisher
from portal.models import PortalSettings


def navigation(request) -> dict:
    return {
        "is_publisher": is_publisher(request.user),
        # Lazy: only pages that show the Sign up link (anonymous visitors) read the setting.
        "signup_enabled": SimpleLazyObject(lambda: PortalSettings.current().signup_enabled),
    }
