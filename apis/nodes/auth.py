"""Node token authentication for the node endpoints: a bearer token names exactly one gateway."""

from django.http import HttpRequest, JsonResponse

from apis import selectors
from apis.models import Gateway


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def node_gateway(request: HttpRequest) -> Gateway | None:
    """The gateway whose node token the request carries, or None (looked up by hash)."""
    return selectors.gateway_for_node_token(bearer_token(request))


def unauthorized() -> JsonResponse:
    # One answer for a missing, malformed, unknown or replaced token: nothing says which.
    response = JsonResponse({"error": "invalid node token"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="portico-gateway-nodes"'
    response["Cache-Control"] = "no-store"
    return response
