"""URL configuration: the developer portal at /, publisher pages, accounts, REST API, admin."""

from django.contrib import admin
from django.urls import include, path

from apis import urls as publisher_urls
from apis.telemetry import live_api
from apis.telemetry import node_views as telemetry_node_views
from apis.telemetry import urls as telemetry_urls
from portal import oidc_views, views
from portal.views.favicon import favicon

admin.site.site_header = "Portico administration"
admin.site.site_title = "Portico admin"

# The catalog's publisher pages plus telemetry's Metrics and Logs tabs, under one namespace: the
# catalog never imports telemetry, so the site joins them here.
publisher = ([*publisher_urls.urlpatterns, *telemetry_urls.urlpatterns], publisher_urls.app_name)

urlpatterns = [
    path("", include("portal.portal_urls")),  # developer portal (namespace "portal")
    path("accounts/", include("portal.account_urls")),  # sign up/in/out, password reset
    path("publisher/", include(publisher)),  # publisher pages (namespace "publisher")
    path("api/v1/", include(live_api)),  # telemetry's /api/v1/connections/, before the catch-all
    path("api/", include("apis.api.urls")),  # management REST API, schema, docs
    path("_portico/gateways/v1/", include("apis.nodes.urls")),  # gateway nodes (bearer token)
    path("_portico/gateways/v1/telemetry", telemetry_node_views.telemetry, name="node-telemetry"),
    path(
        "_portico/gateways/v1/connections",
        telemetry_node_views.live_connections,
        name="node-live-connections",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    # Signing out of admin is the portal's sign-out: it also ends a provider's session.
    path("admin/logout/", oidc_views.sign_out),
    path("admin/", admin.site.urls),
]
