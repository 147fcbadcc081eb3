"""App config for the catalog; connects the signal that bumps the catalog revision."""

from django.apps import AppConfig


class ApisConfig(AppConfig):
    name = "apis"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apis import signals  # noqa: F401
