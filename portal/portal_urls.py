"""Developer portal pages: home, catalog, products, API pages, profile and subscriptions."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
]
