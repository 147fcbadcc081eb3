"""Subscriptions: create, list, lifecycle actions, key regeneration and audited key reads."""

import hmac
from datetime import UTC, datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apis import selectors, services, tickets
from apis.api import filters, serializers
from apis.api.audit import audit
from apis.api.concurrency import ConcurrencyMixin, with_etag
from apis.api.permissions import KEY_HEADER, SubscriptionAccess, presented_key
from apis.models import Subscription
from apis.selectors.certificates import gateway_host


def transition(name: str):
    """A POST `{id}/<name>/` action applying one lifecycle step through apis.services."""

    def handler(self, request, *args, **kwargs):
        subscription = self.get_object()
        body = serializers.StateChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = services.change_subscription_state(
            subscription=subscription, action=name, comment=body.validated_data["comment"]
        )
        data = serializers.SubscriptionSerializer(subscription).data
        return with_etag(Response(data), subscription)

    handler.__name__ = name
    handler.__doc__ = f"{name.capitalize()} the subscription."
    decorated = action(detail=True, methods=["post"])(handler)
    return extend_schema(
        request=serializers.StateChangeSerializer, responses=serializers.SubscriptionSerializer
    )(decorated)


class SubscriptionViewSet(
    ConcurrencyMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Keys are masked everywhere except `listSecrets`, which is written to the audit log."""

    queryset = Subscription.objects.none()  # per user: see get_queryset
    serializer_class = serializers.SubscriptionSerializer
    permission_classes = [SubscriptionAccess]
    filterset_class = filters.SubscriptionFilterSet
    ordering_fields = ["created_at", "display_name", "state", "updated_at"]
    lookup_value_regex = r"[0-9]+"

    approve = transition("approve")
    reject = transition("reject")
    suspend = transition("suspend")
    reactivate = transition("reactivate")
    cancel = transition("cancel")

    def get_queryset(self):
        return selectors.management_subscriptions(self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return serializers.SubscriptionRenameSerializer
        return super().get_serializer_class()

    @extend_schema(
        request=serializers.RegenerateKeySerializer, responses=serializers.SubscriptionSerializer
    )
    @action(detail=True, methods=["post"], url_path="regenerateKey", url_name="regenerate-key")
    def regenerate_key(self, request, *args, **kwargs):
        subscription = self.get_object()
        body = serializers.RegenerateKeySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        which = body.validated_data["key"]
        subscription = services.regenerate_subscription_key(subscription=subscription, which=which)
        audit(request, "subscription key regenerated", subscription=subscription.pk, key=which)
        data = serializers.SubscriptionSerializer(subscription).data
        return with_etag(Response(data), subscription)

    @extend_schema(request=None, responses=serializers.SubscriptionSecretsSerializer)
    @action(detail=True, methods=["post"], url_path="listSecrets", url_name="list-secrets")
    def list_secrets(self, request, *args, **kwargs):
        subscription = self.get_object()
        audit(request, "subscription keys read", subscription=subscription.pk)
        return Response(serializers.SubscriptionSecretsSerializer(subscription).data)

    @extend_schema(
        request=serializers.ConnectTicketRequestSerializer,
        responses={201: serializers.ConnectTicketSerializer},
        parameters=[
            OpenApiParameter(
                KEY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description="The subscription's key, instead of a token or session (for an "
                "application server minting tickets for its browser clients).",
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="connectTickets", url_name="connect-tickets")
    def connect_tickets(self, request, *args, **kwargs):
        """A single-use ticket (at most 60 s) to connect once to an API without a key in the URL."""
        subscription = self._ticket_subscription(request)
        body = serializers.ConnectTicketRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            issued = tickets.issue(
                subscription,
                api_name=data["api"],
                origin=data["origin"],
                gateway_name=data["gateway"],
                lifetime=data["expires_in"],
            )
        except tickets.CannotIssue as exc:
            raise exceptions.ValidationError({"api": [str(exc)]}) from None
        answer = {
            "ticket": issued.text,
            "url": tickets.ticket_url(
                issued,
                host=gateway_host(issued.gateway, request.get_host()),
                secure=request.is_secure(),
            ),
            "expires_at": datetime.fromtimestamp(issued.ticket.expires_at, UTC),
            "api": data["api"],
            "gateway": issued.gateway,
            "origin": data["origin"],
        }
        response = Response(
            serializers.ConnectTicketSerializer(answer).data, status.HTTP_201_CREATED
        )
        response["Cache-Control"] = "no-store"
        return response

    def _ticket_subscription(self, request) -> Subscription:
        """The subscription in the URL: proved by its own key, else visible to the user."""
        key = presented_key(request)
        if not key:
            return self.get_object()
        subscription = Subscription.objects.filter(pk=self.kwargs["pk"]).first()
        proved = subscription is not None and (
            hmac.compare_digest(key.encode(), subscription.primary_key.encode())
            | hmac.compare_digest(key.encode(), subscription.secondary_key.encode())
        )
        if not proved:
            raise exceptions.AuthenticationFailed("Invalid subscription key for this subscription.")
        return subscription
