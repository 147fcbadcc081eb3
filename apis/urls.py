"""Publisher pages: APIs, products, gateways and subscriptions."""

from django.urls import path

from apis import telemetry_urls, views

app_name = "publisher"

urlpatterns = [
    path("", views.index, name="index"),
    *telemetry_urls.urlpatterns,  # apis/<name>/metrics/, apis/<name>/logs/ (keep this line)
]
