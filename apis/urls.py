"""Publisher pages: APIs, products, gateways and subscriptions."""

from django.urls import path

from apis import views

app_name = "publisher"

urlpatterns = [
    path("", views.index, name="index"),
]
