"""Publisher pages for an API's metrics and connection logs."""

from django.urls import path

from apis import telemetry_views

urlpatterns: list = [
    path("apis/<slug:name>/metrics/", telemetry_views.api_metrics, name="api-metrics"),
    path("apis/<slug:name>/logs/", telemetry_views.api_logs, name="api-logs"),
    path("apis/<slug:name>/logs.csv", telemetry_views.api_logs_csv, name="api-logs-csv"),
    path("apis/<slug:name>/logs/<int:log_id>/", telemetry_views.log_detail, name="log-detail"),
]
