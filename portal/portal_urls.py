"""Developer portal pages: home, catalog, products, API pages, profile and subscriptions."""

from django.urls import include, path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("apis/", views.api_list, name="apis"),
    path("apis/<slug:name>/", views.api_detail, name="api"),
    path("apis/<slug:name>/ticket/", views.api_console_ticket, name="api-console-ticket"),
    path("apis/<slug:name>/asyncapi.<str:fmt>", views.api_asyncapi, name="api-asyncapi"),
    path("products/", views.product_list, name="products"),
    path("products/<slug:name>/", views.product_detail, name="product"),
    path("products/<slug:name>/subscribe/", views.subscribe, name="subscribe"),
    path("profile/", views.profile, name="profile"),
    path("subscriptions/", views.subscription_list, name="subscriptions"),
    path("subscriptions/<int:pk>/rename/", views.subscription_rename, name="subscription_rename"),
    path("subscriptions/<int:pk>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("subscriptions/<int:pk>/keys/", views.subscription_keys, name="subscription_keys"),
    path(
        "subscriptions/<int:pk>/regenerate/<str:which>/",
        views.subscription_regenerate,
        name="subscription_regenerate",
    ),
    path("usage/", include("portal.usage_urls")),  # subscription usage (metrics area)
    path("tokens/", include("portal.token_urls")),  # personal access tokens (REST API area)
]
