"""Catalog resources of the management API: APIs, products, gateways and users."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apis import selectors, services
from apis.api import filters, serializers
from apis.api.api_token_views import ApiTokensMixin
from apis.api.asyncapi_views import AsyncApiActionsMixin
from apis.api.audit import audit
from apis.api.concurrency import ConcurrencyMixin
from apis.api.exceptions import Conflict
from apis.api.permissions import IsAdmin, IsPublisher
from apis.api.policy_views import EffectivePolicyMixin, PolicyActionMixin
from apis.nodes.deploy import control_url, node_commands

SLUG = r"[-a-zA-Z0-9_]+"


class ApiViewSet(
    ConcurrencyMixin,
    PolicyActionMixin,
    EffectivePolicyMixin,
    AsyncApiActionsMixin,
    ApiTokensMixin,
    viewsets.ModelViewSet,
):
    queryset = selectors.management_apis()
    serializer_class = serializers.ApiSerializer
    permission_classes = [IsPublisher]
    filterset_class = filters.ApiFilterSet
    ordering_fields = ["name", "display_name", "url_suffix", "created_at", "updated_at"]
    lookup_field = "name"
    lookup_value_regex = SLUG

    def perform_destroy(self, instance) -> None:
        services.delete_api(api=instance)

    def save_policy(self, obj, xml: str):
        return services.update_api(api=obj, policy_xml=xml)


class ProductViewSet(ConcurrencyMixin, PolicyActionMixin, viewsets.ModelViewSet):
    queryset = selectors.management_products()
    serializer_class = serializers.ProductSerializer
    permission_classes = [IsPublisher]
    filterset_class = filters.ProductFilterSet
    ordering_fields = ["name", "display_name", "state", "created_at", "updated_at"]
    lookup_field = "name"
    lookup_value_regex = SLUG

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "force",
                bool,
                description="Also delete the product's subscriptions (refused with 409 otherwise).",
            )
        ],
        responses={204: None},
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance) -> None:
        force = self.request.query_params.get("force", "").lower() in ("1", "true", "yes")
        try:
            services.delete_product(product=instance, force=force)
        except services.InUse as exc:
            raise Conflict(str(exc)) from None

    def save_policy(self, obj, xml: str):
        return services.update_product(product=obj, policy_xml=xml)


class GatewayViewSet(ConcurrencyMixin, viewsets.ModelViewSet):
    """Publishers manage gateways and their APIs; only admins rotate node tokens (shown once)."""

    queryset = selectors.management_gateways()
    serializer_class = serializers.GatewaySerializer
    permission_classes = [IsPublisher]
    filterset_class = filters.GatewayFilterSet
    ordering_fields = ["name", "kind", "last_seen_at", "created_at"]
    lookup_field = "name"
    lookup_value_regex = SLUG

    def get_permissions(self):
        if self.action == "regenerate_token":
            return [IsAdmin()]
        return super().get_permissions()

    def perform_destroy(self, instance) -> None:
        services.delete_gateway(gateway=instance)

    @extend_schema(responses=serializers.GatewayNodeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="nodes", url_name="nodes", pagination_class=None)
    def nodes(self, request, *args, **kwargs):
        """The gateway's nodes with their heartbeat figures, online ones first."""
        nodes = selectors.gateway_nodes(self.get_object())
        return Response(serializers.GatewayNodeSerializer(nodes, many=True).data)

    @extend_schema(
        request=serializers.RegenerateTokenSerializer,
        responses=serializers.NewGatewayTokenSerializer,
        description="Replace a node token and return the new one, with the shell lines that "
        "start a node. Only its hash is stored: this response is the one place it appears. Nodes "
        "using the old token are refused. The body may be empty (the primary token).",
    )
    @action(detail=True, methods=["post"], url_path="regenerateToken", url_name="regenerate-token")
    def regenerate_token(self, request, *args, **kwargs):
        gateway = self.get_object()
        body = serializers.RegenerateTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        which = body.validated_data["token"]
        secret = services.regenerate_gateway_token(gateway=gateway, which=which)
        audit(request, "gateway node token regenerated", gateway=gateway.name, token=which)
        commands = node_commands(gateway, control_url(request), secret)
        body = {"gateway": gateway.name, "token": which, "value": secret, "commands": commands}
        return Response(body, headers={"Cache-Control": "no-store"})


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users and their subscriptions (admins only)."""

    queryset = selectors.management_users()
    serializer_class = serializers.UserSerializer
    permission_classes = [IsAdmin]
    filterset_class = filters.UserFilterSet
    ordering_fields = ["username", "date_joined", "last_login"]
    lookup_value_regex = r"[0-9]+"
