"""A developer's usage of their subscriptions (connections, messages, bytes, quota)."""

from django.urls import path

from portal import usage_views

urlpatterns: list = [
    path("", usage_views.usage_index, name="usage"),
    path("<int:subscription_id>/", usage_views.subscription_usage, name="subscription-usage"),
    path(
        "<int:subscription_id>/connections/<str:connection_id>/close/",
        usage_views.connection_close,
        name="usage-connection-close",
    ),
]
