"""AsyncAPI on the management API: import a document into an API, export an API as one."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apis.api.serializers import ApiSerializer, names
from apis.asyncapi.services import import_asyncapi
from apis.asyncapi.writing import export_document, to_yaml
from apis.models import Gateway, Product
from apis.selectors.certificates import api_hosts

FORMATS = ("json", "yaml")


class AsyncApiImportSerializer(serializers.Serializer):
    document = serializers.JSONField(
        help_text="The AsyncAPI 3.0.0 or 2.x document: an object, or its YAML or JSON text."
    )
    name = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="The API to create or update; defaults to a slug of the document's info.title.",
    )
    url_suffix = serializers.CharField(
        max_length=200, required=False, help_text="Required when the API is new."
    )
    server = serializers.CharField(
        max_length=200,
        required=False,
        help_text=(
            "The ws/wss server of the document that is the backend: needed for a new API when "
            "the document has several; an update keeps its backend unless this or backend_url "
            "is given. A server marked x-portico-gateway (a Portico export) is never a backend."
        ),
    )
    backend_url = serializers.CharField(
        max_length=2000,
        required=False,
        help_text="A backend URL to use instead of any server of the document.",
    )
    products = names(Product.objects.all())
    gateways = names(Gateway.objects.all(), help_text="New APIs default to the built-in gateway.")

    def validate_document(self, value):
        if not isinstance(value, str | dict):
            raise serializers.ValidationError("Send the document as an object or as text.")
        return value


class IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=yaml` picks the document's format here, not one of DRF's renderers."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AsyncApiActionsMixin:
    """Adds `POST apis/import-asyncapi` and `GET apis/{name}/asyncapi` to the API viewset."""

    @extend_schema(
        request=AsyncApiImportSerializer,
        responses={201: ApiSerializer, 200: ApiSerializer},
        description=(
            "Create a WebSocket API from an AsyncAPI document, or update the API it names: "
            "display name and description from `info`, channels and messages (payload schemas, "
            "examples) as the API's contract, and for a new API the backend URL from the ws/wss "
            "server (an update keeps its backend unless `server` or `backend_url` is given). An "
            "invalid document answers 400 with one error per problem, each starting with its "
            "JSON path."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-asyncapi",
        url_name="import-asyncapi",
        serializer_class=AsyncApiImportSerializer,
    )
    def import_asyncapi(self, request, *args, **kwargs):
        body = AsyncApiImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        api, created = import_asyncapi(**body.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ApiSerializer(api).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="Default json.")
        ],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.STR),
        },
        description=(
            "The API as an AsyncAPI 3.0.0 document: the gateway (this host) as its servers, "
            "marked `x-portico-gateway: true` so that importing it never takes them as the "
            "backend; the subscription key's header and query parameter as httpApiKey security "
            "schemes, and the channels and messages of its contract."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="asyncapi",
        url_name="asyncapi",
        renderer_classes=[JSONRenderer],
        content_negotiation_class=IgnoreFormatParameter,
    )
    def asyncapi(self, request, *args, **kwargs):
        fmt = request.query_params.get("format", "json")
        if fmt not in FORMATS:
            raise exceptions.ValidationError({"format": "Use json or yaml."})
        api = self.get_object()
        document = export_document(api, host=api_hosts(api, request.get_host())[0])
        filename = f"{api.name}-asyncapi.{fmt}"
        if fmt == "yaml":
            response = HttpResponse(to_yaml(document), content_type="application/yaml")
        else:
            response = Response(document)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response
