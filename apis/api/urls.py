"""Management REST API routes (under /api/): v1 resources, the OpenAPI schema and its docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apis.api import (
    catalog_views,
    certificate_views,
    policy_library_views,
    policy_views,
    subscription_views,
    views,
)
from apis.api.exceptions import not_found


class Router(DefaultRouter):
    """Trailing slash optional: `/api/v1/apis/chat/policy` and `…/policy/` are one endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = Router()
router.register("apis", views.ApiViewSet, basename="api")
router.register("products", views.ProductViewSet, basename="product")
router.register("gateways", views.GatewayViewSet, basename="gateway")
router.register("subscriptions", subscription_views.SubscriptionViewSet, basename="subscription")
router.register("certificates", certificate_views.CertificateViewSet, basename="certificate")
router.register("users", views.UserViewSet, basename="user")
router.register("namedValues", policy_library_views.NamedValueViewSet, basename="named-value")
router.register(
    "policyFragments", policy_library_views.PolicyFragmentViewSet, basename="policy-fragment"
)

app_name = "api"

urlpatterns = [
    path("v1/policies/global", policy_views.GlobalPolicyView.as_view(), name="global-policy"),
    path("v1/catalog/", catalog_views.CatalogView.as_view(), name="catalog"),
    path("v1/catalog/apply/", catalog_views.CatalogApplyView.as_view(), name="catalog-apply"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", not_found),
]
