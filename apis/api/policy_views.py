"""Policy documents at each scope: All APIs, a product, an API, and an API's effective policy."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.decorators import action
from rest_framework.response import Response

from apis import selectors, services
from apis.api.concurrency import check_if_match, with_etag
from apis.api.permissions import IsPublisher
from apis.api.serializers import EffectivePolicySerializer, PolicySerializer


class PolicyActionMixin:
    """Adds GET/PUT `{name}/policy` to a viewset; `save_policy(obj, xml)` does the write."""

    def save_policy(self, obj, xml: str):
        raise NotImplementedError

    @extend_schema(request=PolicySerializer, responses=PolicySerializer)
    @action(detail=True, methods=["get", "put"], serializer_class=PolicySerializer)
    def policy(self, request, *args, **kwargs):
        obj = self.get_object()  # checks If-Match on PUT
        if request.method == "PUT":
            serializer = PolicySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            obj = self.save_policy(obj, serializer.validated_data["policy_xml"])
        return with_etag(Response(PolicySerializer(obj).data), obj)


class EffectivePolicyMixin:
    """Adds GET `{name}/effectivePolicy`: the API's document with `<base/>` filled in."""

    @extend_schema(responses=EffectivePolicySerializer)
    @action(
        detail=True,
        url_path="effectivePolicy",
        url_name="effective-policy",
        serializer_class=EffectivePolicySerializer,
    )
    def effective_policy(self, request, *args, **kwargs):
        """Only the subscription's own product's policy applies (as in Azure): the top level is
        what all-APIs and API-scoped subscriptions get, `products` what each product's get."""
        variants = selectors.effective_policies(self.get_object())

        def part(variant) -> dict:
            if variant.effective is None:
                return {"applies_to": variant.applies_to, "policy_xml": "", "error": variant.error}
            return {
                "applies_to": variant.applies_to,
                "policy_xml": variant.effective.to_xml(),
                "warnings": list(variant.effective.warnings),
            }

        data = part(variants[-1])
        data["products"] = [{"product": v.product.name, **part(v)} for v in variants[:-1]]
        return Response(EffectivePolicySerializer(data).data)


class GlobalPolicyView(generics.GenericAPIView):
    """The All APIs policy: inherited by every API through `<base/>`."""

    serializer_class = PolicySerializer
    permission_classes = [IsPublisher]

    def get_object(self):
        """The one global policy: no queryset to look it up in (DRF's OPTIONS asks for it)."""
        policy = selectors.global_policy()
        self.check_object_permissions(self.request, policy)
        return policy

    def get(self, request):
        policy = self.get_object()
        return with_etag(Response(PolicySerializer(policy).data), policy)

    def put(self, request):
        check_if_match(request, self.get_object())
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.set_global_policy(policy_xml=serializer.validated_data["policy_xml"])
        return with_etag(Response(PolicySerializer(policy).data), policy)
