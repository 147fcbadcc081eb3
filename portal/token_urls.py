"""Personal access tokens for the management REST API: create (shown once) and revoke."""

from django.urls import path

from portal import token_views

urlpatterns = [
    path("", token_views.token_list, name="token-list"),
    path("new/", token_views.token_create, name="token-create"),
    path("<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
]
