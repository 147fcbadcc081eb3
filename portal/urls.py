"""URL configuration: the developer portal at /, publisher pages, accounts, REST API, admin."""

from django.contrib import admin
from django.urls import include, path

from portal import views

admin.site.site_header = "Portico administration"
admin.site.site_title = "Portico admin"

urlpatterns = [
    path("", include("portal.portal_urls")),  # developer portal (namespace "portal")
    path("accounts/", include("portal.account_urls")),  # sign up/in/out, password reset
    path("publisher/", include("apis.urls")),  # publisher pages (namespace "publisher")
    path("api/", include("apis.api.urls")),  # management REST API, schema, docs
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
