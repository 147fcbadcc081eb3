"""Developer portal pages: home, catalog, products, API pages, profile and subscriptions."""

from django.urls import include, path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("usage/", include("portal.usage_urls")),  # subscription usage (metrics area)
    path("tokens/", include("portal.token_urls")),  # personal access tokens (REST API area)
]
