"""Routes of the node endpoints, mounted at /_portico/gateways/v1/ by the project's URLs."""

from django.urls import path

from apis.nodes import views

app_name = "nodes"

urlpatterns = [
    path("config", views.config, name="config"),
    path("heartbeat", views.heartbeat, name="heartbeat"),
]
