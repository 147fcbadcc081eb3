"""Certificates of the management API: upload (PEM, PFX or a CA alone), list, replace, delete."""

from rest_framework import viewsets

from apis import services
from apis.api.certificate_serializers import CertificateSerializer
from apis.api.concurrency import ConcurrencyMixin
from apis.api.permissions import IsPublisher
from apis.api.views import SLUG
from apis.models import Certificate


class CertificateViewSet(ConcurrencyMixin, viewsets.ModelViewSet):
    """Publishers upload certificates; private keys are write-only (stored encrypted)."""

    queryset = Certificate.objects.prefetch_related("hostnames").order_by("name")
    serializer_class = CertificateSerializer
    permission_classes = [IsPublisher]
    ordering_fields = ["name", "not_after", "created_at"]
    lookup_field = "name"
    lookup_value_regex = SLUG

    def perform_destroy(self, instance) -> None:
        services.delete_certificate(certificate=instance)
