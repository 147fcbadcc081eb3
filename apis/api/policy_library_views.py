"""Named values and policy fragments: what policies share, managed like the rest of the catalog."""

from rest_framework import viewsets

from apis import services
from apis.api import serializers
from apis.api.audit import audit
from apis.api.concurrency import ConcurrencyMixin
from apis.api.exceptions import Conflict
from apis.api.permissions import IsPublisher
from apis.models import NamedValue, PolicyFragment

NAME = r"[A-Za-z0-9._-]+"


class NamedValueViewSet(ConcurrencyMixin, viewsets.ModelViewSet):
    """`{{name}}` in policies. A secret's value is never answered; deleting one in use is 409."""

    queryset = NamedValue.objects.all()
    serializer_class = serializers.NamedValueSerializer
    permission_classes = [IsPublisher]
    ordering_fields = ["name", "created_at", "updated_at"]
    lookup_field = "name"
    lookup_value_regex = NAME

    def perform_create(self, serializer) -> None:
        serializer.save()
        if serializer.instance.secret:
            audit(self.request, "secret named value created", name=serializer.instance.name)

    def perform_update(self, serializer) -> None:
        super().perform_update(serializer)
        if serializer.instance.secret and serializer.validated_data.get("value") is not None:
            audit(self.request, "secret named value replaced", name=serializer.instance.name)

    def perform_destroy(self, instance) -> None:
        try:
            services.delete_named_value(named_value=instance)
        except services.InUse as exc:
            raise Conflict(str(exc)) from None


class PolicyFragmentViewSet(ConcurrencyMixin, viewsets.ModelViewSet):
    """Policies written once, included with `<include-fragment>`; deleting one in use is 409."""

    queryset = PolicyFragment.objects.all()
    serializer_class = serializers.PolicyFragmentSerializer
    permission_classes = [IsPublisher]
    ordering_fields = ["name", "created_at", "updated_at"]
    lookup_field = "name"
    lookup_value_regex = NAME

    def perform_destroy(self, instance) -> None:
        try:
            services.delete_policy_fragment(fragment=instance)
        except services.InUse as exc:
            raise Conflict(str(exc)) from None
