"""App config for telemetry, an app that reads the catalog and that the catalog never imports."""

from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "apis.telemetry"
    label = "telemetry"
    verbose_name = "Telemetry"
    default_auto_field = "django.db.models.BigAutoField"

    def open_connection_counts(self, subscription_ids) -> dict[int, int]:
        """Open connections per subscription, for the catalog's pages: they find this through
        Django's app registry (`apis.selectors.open_connection_counts`), never by import."""
        from apis.telemetry.live_selectors import open_counts

        return open_counts(subscription_ids)
