"""POST /api/v1/connections/{id}/messages and POST /api/v1/connections/broadcast.

A message goes to the gateway process holding each connection (apis.telemetry.delivery) and the
answer says how it ended: 200 handed to the client's transport, 404 gone, 413 over the API's
message limit, 429 the client's outgoing buffer is full, 503 the transport to the process is down
(the reason says whether anything may have been sent). Publishers, admins and the API's own
tokens may send; each send and broadcast is audited (who, selector, counts, never the payload).
"""

import base64
import binascii

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apis.api.token_scope import check_api_scope, scoped_api_id
from apis.audit import audit
from apis.models import Api
from apis.telemetry import delivery, live_selectors
from gateway.catalog.delivery import DELIVERED, FULL, GONE, TOO_BIG, message_size

MAX_BROADCAST = 100_000  # connections per broadcast: ten full nodes of two workers


class MessageSerializer(serializers.Serializer):
    """One message: text, or binary data as base64 (exactly one of them)."""

    text = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="A text message (or send data).",
    )
    data = serializers.CharField(
        required=False, allow_blank=True, help_text="Binary message, base64-encoded."
    )

    def validate_data(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None

    def validate(self, attrs: dict) -> dict:
        if ("text" in attrs) == ("data" in attrs):
            raise serializers.ValidationError(
                {"text": ['Send exactly one of "text" and "data" (base64).']}
            )
        return attrs


class BroadcastSerializer(MessageSerializer):
    """A message and the connections it goes to: every selector given must match (AND)."""

    api = serializers.CharField(required=False, max_length=80, help_text="API name.")
    product = serializers.CharField(required=False, max_length=80, help_text="Product name.")
    subscription = serializers.IntegerField(
        required=False, min_value=1, help_text="Subscription id."
    )
    gateway = serializers.CharField(required=False, max_length=80, help_text="Gateway name.")
    tag = serializers.CharField(required=False, max_length=200, help_text="name=value")

    def validate_tag(self, value: str) -> tuple[str, str]:
        try:
            return live_selectors.parse_tag(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not any(name in attrs for name in ("api", "product", "subscription", "gateway", "tag")):
            raise serializers.ValidationError(
                {"api": ["Name at least one selector: api, product, subscription, gateway, tag."]}
            )
        for name in ("api", "product", "gateway"):
            if "\x00" in attrs.get(name, ""):
                raise serializers.ValidationError({name: ["Null characters are not allowed."]})
        return attrs


class SendResultSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The connection's id.")
    outcome = serializers.CharField(help_text='"delivered": handed to the client\'s transport.')


class BroadcastResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Connections the selector matched.")
    delivered = serializers.IntegerField(help_text="Handed to the client's transport.")
    failed = serializers.IntegerField(help_text="Gone, full, too big or unreachable.")


SEND_REFUSALS = {
    GONE: (status.HTTP_404_NOT_FOUND, "The connection is gone (or closing)."),
    TOO_BIG: (status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "Over the API's message size limit."),
    FULL: (
        status.HTTP_429_TOO_MANY_REQUESTS,
        "The client's outgoing buffer is full: the message was not queued. Try again later.",
    ),
    delivery.UNREACHABLE: (
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The gateway process holding the connection cannot be reached (it listens for messages "
        "over Redis: is REDIS_URL set on it and here?). Nothing was sent.",
    ),
    delivery.NO_ANSWER: (
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The gateway process did not answer in time: the message may or may not have arrived.",
    ),
}


def refusal(code: int, message: str, field: str | None = None, **headers) -> Response:
    body = {"status": code, "errors": [{"field": field, "message": message, "code": "refused"}]}
    return Response(body, status=code, headers=headers)


def _message(validated: dict) -> tuple[str | None, bytes | None]:
    return validated.get("text"), validated.get("data") if "text" not in validated else None


class ConnectionMessagesMixin:
    """The live connections viewset's send and broadcast actions."""

    @extend_schema(
        operation_id="connections_send_message",
        request=MessageSerializer,
        responses={200: SendResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="messages")
    def messages(self, request, *args, **kwargs):
        """Send one message to the connection's client, as if its backend had sent it."""
        connection = self.get_object()  # 404 unknown, 403 another API's (API-scoped tokens)
        body = MessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        text, data = _message(body.validated_data)
        limit = Api.objects.filter(pk=connection.api_id).values_list("max_message_bytes", flat=True)
        size = message_size(text, data)
        if limit and size > limit[0]:
            outcome = TOO_BIG
        else:
            try:
                outcome = delivery.deliver([connection], text=text, data=data).get(
                    connection.connection_id, GONE
                )
            except delivery.DeliveryUnavailable as error:
                outcome = None
                reason = str(error)
        audit(
            request,
            "live connection message",
            connection=connection.connection_id,
            api=connection.api_name,
            bytes=size,
            outcome=outcome or "unavailable",
        )
        if outcome is None:
            return refusal(503, reason, **{"Retry-After": "5"})
        if outcome != DELIVERED:
            code, message = SEND_REFUSALS.get(outcome, SEND_REFUSALS[GONE])
            headers = {"Retry-After": "1"} if code in (429, 503) else {}
            return refusal(code, message, "text" if code == 413 else None, **headers)
        return Response({"id": connection.connection_id, "outcome": DELIVERED})

    @extend_schema(
        operation_id="connections_broadcast",
        request=BroadcastSerializer,
        responses={200: BroadcastResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="broadcast")
    def broadcast(self, request, *args, **kwargs):
        """Send one message to every live connection the selector matches, on every node."""
        body = BroadcastSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        selector = {k: v for k, v in body.validated_data.items() if k not in ("text", "data")}
        check_api_scope(request, api_name=selector.get("api", ""))
        text, data = _message(body.validated_data)
        rows = live_selectors.live_connections(
            request.user,
            api=selector.get("api", ""),
            product=selector.get("product", ""),
            subscription=selector.get("subscription"),
            gateway=selector.get("gateway", ""),
            tag=selector.get("tag"),
            api_id=scoped_api_id(request),
        ).filter(disconnect_requested_at__isnull=True)[: MAX_BROADCAST + 1]
        rows = list(rows)
        if len(rows) > MAX_BROADCAST:
            raise exceptions.ValidationError(
                {"api": [f"Matches more than {MAX_BROADCAST} connections: narrow the selector."]}
            )
        try:
            results = delivery.deliver(rows, text=text, data=data) if rows else {}
        except delivery.DeliveryUnavailable as error:
            audit(request, "live connections broadcast", **_shown(selector), matched=len(rows))
            return refusal(503, str(error), **{"Retry-After": "5"})
        delivered = sum(1 for outcome in results.values() if outcome == DELIVERED)
        counts = {"matched": len(rows), "delivered": delivered, "failed": len(rows) - delivered}
        audit(
            request,
            "live connections broadcast",
            **_shown(selector),
            bytes=message_size(text, data),
            **counts,
        )
        return Response(counts)


def _shown(selector: dict) -> dict:
    shown = dict(selector)
    if "tag" in shown:
        shown["tag"] = repr("=".join(shown["tag"]))
    for name in ("api", "product", "gateway"):
        if name in shown:
            shown[name] = repr(shown[name])
    return shown
