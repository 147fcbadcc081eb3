"""API-scoped tokens in the management API: `GET/POST apis/{name}/tokens`, `DELETE .../{id}`.

A token for one API's live connections only (list, send, broadcast, close: see
`apis.api.token_scope`), for a backend service that pushes to its own clients. The secret is
shown once, in the creation's answer; only its hash is stored. Creations and revocations are
audited.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apis import selectors, services
from apis.api.audit import audit


class ApiTokenSerializer(serializers.Serializer):
    """An API-scoped token as listed: never its secret."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(
        max_length=100, help_text="What the token is for, e.g. the backend service using it."
    )
    token_prefix = serializers.CharField(read_only=True, help_text="Tells tokens apart.")
    created_by = serializers.CharField(source="user.username", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret, shown this once.")


class ApiTokensMixin:
    """Adds the API-scoped token actions to the API viewset (publishers and admins)."""

    @extend_schema(
        methods=["GET"],
        operation_id="apis_tokens_list",
        request=None,
        responses=ApiTokenSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        operation_id="apis_tokens_create",
        request=ApiTokenSerializer,
        responses={201: ApiTokenCreatedSerializer},
    )
    # No filters or pages: the API list's would be offered (and documented) on its tokens.
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="tokens",
        url_name="tokens",
        filter_backends=[],
        pagination_class=None,
    )
    def tokens(self, request, *args, **kwargs):
        """List this API's scoped tokens, or create one (its secret answered once in `token`)."""
        api = self.get_object()
        if request.method == "GET":
            rows = selectors.api_tokens_of(api)
            return Response(ApiTokenSerializer(rows, many=True).data)
        body = ApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = services.create_access_token(
            user=request.user, name=body.validated_data["name"], api=api
        )
        audit(request, "API token created", api=api.name, token=token.pk, name=repr(token.name))
        data = {**ApiTokenSerializer(token).data, "token": secret}
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(operation_id="apis_tokens_revoke", request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"tokens/(?P<id>[0-9]+)",
        url_name="token",
        filter_backends=[],
    )
    def revoke_token(self, request, id=None, *args, **kwargs):  # noqa: A002 - the URL kwarg
        """Revoke one of this API's scoped tokens (it stops working at once)."""
        api = self.get_object()
        token = get_object_or_404(selectors.api_tokens_of(api), pk=id)
        services.revoke_access_token(token=token)
        audit(request, "API token revoked", api=api.name, token=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
