"""Publisher pages for an API's metrics, connection logs and live connections (wired into the
publisher namespace by the site's URLconf, next to the catalog's pages)."""

from django.urls import path

from apis.telemetry import live_send_views, live_views, views

urlpatterns: list = [
    path("apis/<slug:name>/metrics/", views.api_metrics, name="api-metrics"),
    path("apis/<slug:name>/logs/", views.api_logs, name="api-logs"),
    path("apis/<slug:name>/logs.csv", views.api_logs_csv, name="api-logs-csv"),
    path("apis/<slug:name>/logs/<int:log_id>/", views.log_detail, name="log-detail"),
    path("apis/<slug:name>/live/", live_views.api_live, name="api-live"),
    path("subscriptions/<int:pk>/live/", live_views.subscription_live, name="subscription-live"),
    path(
        "connections/<str:connection_id>/close/",
        live_views.connection_close,
        name="live-connection-close",
    ),
    path(
        "connections/<str:connection_id>/send/",
        live_send_views.connection_send,
        name="live-connection-send",
    ),
    path("apis/<slug:name>/live/broadcast/", live_send_views.api_broadcast, name="api-broadcast"),
]
