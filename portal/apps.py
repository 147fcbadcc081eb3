"""App config for the developer portal pages."""

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Developer portal"

    def ready(self) -> None:
        from portal.models import mark_activated

        post_save.connect(mark_activated, sender=settings.AUTH_USER_MODEL)
        if settings.PORTICO_TRACING_ENABLED:  # before the first handler loads the middleware
            from portal.tracing import instrument_django

            instrument_django()
