"""App config for telemetry, an app that reads the catalog and that the catalog never imports."""

from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "apis.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"
    default_auto_field = "django.db.models.BigAutoField"
