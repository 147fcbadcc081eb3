"""GET /api/v1/connections/ (open connections on every node) and DELETE .../{id}/ (close one);
sending and broadcasting come from apis.telemetry.live_messages.

Publishers and admins see and close every connection; other users their own subscriptions'
(another's answers 404); an API-scoped token its API's (another API's answers 403). A close is
written to the audit log; the connection's process closes it within about a second (client 1008
with the reason, backend 1001).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import (
    exceptions,
    mixins,
    permissions,
    routers,
    serializers,
    status,
    viewsets,
)
from rest_framework.response import Response

from apis.api.schema import DeleteBodySchema
from apis.api.token_scope import check_api_scope, scoped_api_id
from apis.audit import audit
from apis.models import Product
from apis.permissions import is_publisher
from apis.telemetry import live_selectors, live_services
from apis.telemetry.live_messages import ConnectionMessagesMixin
from apis.telemetry.models import LiveConnection


class SignedIn(permissions.BasePermission):
    message = "Sign in, or use a personal access token."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class MaySend(permissions.BasePermission):
    """Sending and broadcasting: publishers, admins and API-scoped tokens (their own API)."""

    message = "Only publishers, admins and the API's own tokens may send to connections."

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) not in ("messages", "broadcast"):
            return True
        return scoped_api_id(request) is not None or is_publisher(request.user)


class LiveConnectionSerializer(serializers.ModelSerializer):
    """One open connection, as its gateway process last reported it (never the key)."""

    id = serializers.CharField(source="connection_id", help_text="The correlation id.")
    gateway = serializers.CharField(source="process.gateway")
    node = serializers.CharField(source="process.node_id")
    worker = serializers.CharField(source="process.worker")
    api = serializers.CharField(source="api_name")
    product = serializers.SerializerMethodField()
    subscription = serializers.IntegerField(source="subscription_id", allow_null=True)
    subscription_name = serializers.SerializerMethodField()
    closing = serializers.SerializerMethodField(help_text="A disconnect was asked for.")
    tags = serializers.DictField(
        child=serializers.CharField(), help_text="set-connection-tag's tags (name: value)."
    )

    class Meta:
        model = LiveConnection
        fields = [
            "id",
            "gateway",
            "node",
            "worker",
            "api",
            "product",
            "subscription",
            "subscription_name",
            "client_ip",
            "user_agent",
            "opened_at",
            "messages_up",
            "bytes_up",
            "messages_down",
            "bytes_down",
            "counted_at",
            "closing",
            "tags",
        ]
        read_only_fields = fields

    def get_product(self, row) -> str | None:
        return self.context.get("products", {}).get(row.product_id)

    def get_subscription_name(self, row) -> str | None:
        return self.context.get("subscriptions", {}).get(row.subscription_id)

    def get_closing(self, row) -> bool:
        return row.disconnect_requested_at is not None


class DisconnectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text='The close reason the client sees (default "closed by an administrator").',
    )


FILTERS = [
    OpenApiParameter("api", str, description="API name."),
    OpenApiParameter("product", str, description="Product name."),
    OpenApiParameter("subscription", int, description="Subscription id."),
    OpenApiParameter("node", str, description="Node id (PORTICO_NODE_ID, or host:port)."),
    OpenApiParameter("gateway", str, description="Gateway name."),
    OpenApiParameter("tag", str, description="A tag as name=value, e.g. room=lobby."),
]


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class LiveConnectionViewSet(
    ConnectionMessagesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = LiveConnectionSerializer
    permission_classes = [SignedIn, MaySend]
    api_scoped_tokens = True  # an API's own tokens list, send to and close its connections
    filter_backends: list = []
    lookup_field = "connection_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[0-9a-zA-Z]{1,32}"
    queryset = LiveConnection.objects.none()  # per user and filters: see get_queryset
    schema = DeleteBodySchema()

    def get_queryset(self):
        params = self.request.query_params if self.action == "list" else {}
        for name in ("api", "product", "subscription", "node", "gateway", "tag"):
            if "\x00" in params.get(name, ""):  # PostgreSQL refuses NUL in text: a 500
                raise exceptions.ValidationError({name: ["Null characters are not allowed."]})
        subscription = params.get("subscription", "")
        if subscription and not subscription.isdigit():
            raise exceptions.ValidationError({"subscription": ["A subscription id (a number)."]})
        tag = None
        if params.get("tag"):
            try:
                tag = live_selectors.parse_tag(params["tag"])
            except ValueError as error:
                raise exceptions.ValidationError({"tag": [str(error)]}) from None
        check_api_scope(self.request, api_name=params.get("api", ""))
        return live_selectors.live_connections(
            self.request.user,
            api=params.get("api", ""),
            product=params.get("product", ""),
            subscription=subscription,
            node=params.get("node", ""),
            gateway=params.get("gateway", ""),
            tag=tag,
            api_id=scoped_api_id(self.request) if self.action == "list" else None,
        )

    def get_object(self):
        connection = super().get_object()
        # An API-scoped token and another API's connection: 403, not a pretend 404.
        check_api_scope(self.request, api_id=connection.api_id)
        return connection

    def get_serializer(self, *args, **kwargs):
        rows = args[0] if args else []
        rows = [rows] if isinstance(rows, LiveConnection) else list(rows)
        context = kwargs.pop("context", None) or self.get_serializer_context()
        context["subscriptions"] = live_selectors.subscription_names(rows)
        ids = {row.product_id for row in rows if row.product_id is not None}
        context["products"] = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name"))
        return self.get_serializer_class()(*args, context=context, **kwargs)

    @extend_schema(
        request=DisconnectSerializer,
        parameters=[
            OpenApiParameter("reason", str, description="The reason, when sent without a body.")
        ],
        responses={202: LiveConnectionSerializer},
    )
    def destroy(self, request, *args, **kwargs):
        """Close the connection: the client gets 1008 with the reason, the backend 1001."""
        connection = self.get_object()
        body = DisconnectSerializer(data=request.data or request.query_params)
        body.is_valid(raise_exception=True)
        default = (
            live_services.DEFAULT_REASON
            if is_publisher(request.user)
            else live_services.OWNER_REASON
        )
        connection = live_services.request_disconnect(
            connection=connection, reason=body.validated_data.get("reason") or default
        )
        audit(
            request,
            "live connection closed",
            connection=connection.connection_id,
            api=connection.api_name,
            subscription=connection.subscription_id,
            node=connection.process.node_id,
            reason=repr(connection.disconnect_reason),
        )
        return Response(self.get_serializer(connection).data, status=status.HTTP_202_ACCEPTED)


class _Router(routers.SimpleRouter):
    """Trailing slash optional, as everywhere in the management API."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


# Mounted under /api/v1/ by the site's URLconf, before the catalog's API (which never imports
# telemetry).
router = _Router()
router.register("connections", LiveConnectionViewSet, basename="live-connection")
urlpatterns = router.urls
