"""`GET /api/v1/catalog/` exports the declarative catalog; `POST …/catalog/apply/` applies one."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, views
from rest_framework.response import Response

from apis.api.catalog import apply_catalog, export_catalog
from apis.api.permissions import IsPublisher

Catalog = inline_serializer(
    "Catalog",
    {
        "version": serializers.IntegerField(),
        "global_policy": serializers.CharField(allow_blank=True),
        "gateways": serializers.ListField(child=serializers.DictField()),
        "apis": serializers.ListField(child=serializers.DictField()),
        "products": serializers.ListField(child=serializers.DictField()),
    },
)
ApplyResult = inline_serializer(
    "CatalogApplyResult",
    {
        "created": serializers.ListField(child=serializers.CharField()),
        "updated": serializers.ListField(child=serializers.CharField()),
    },
)


class CatalogView(views.APIView):
    permission_classes = [IsPublisher]

    @extend_schema(responses=Catalog)
    def get(self, request):
        return Response(export_catalog())


class CatalogApplyView(views.APIView):
    permission_classes = [IsPublisher]

    @extend_schema(request=Catalog, responses=ApplyResult)
    def post(self, request):
        return Response(apply_catalog(request.data))
