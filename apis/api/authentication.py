"""`Authorization: Bearer pat_…` personal access tokens for the management API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apis import selectors, services
from apis.api.token_scope import refuse_outside_scope

SCHEME = "Bearer"
PREFIX = "pat_"


class PersonalAccessTokenAuthentication(authentication.BaseAuthentication):
    """Look the token up by its SHA-256 hash; refuse revoked/expired tokens and non-staff users."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != SCHEME.lower():
            return None  # not ours: let session authentication try
        secret = secret.strip()
        if not secret.startswith(PREFIX) or " " in secret:
            raise exceptions.AuthenticationFailed("Malformed bearer token: expected pat_….")
        token = selectors.access_token_for(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired token.")
        if refusal := token.refusal():
            raise exceptions.AuthenticationFailed(refusal)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        refuse_outside_scope(token, view)
        services.touch_access_token(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{SCHEME} realm="portico"'


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalAccessTokenAuthentication
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (pat_…) created on the portal's Tokens page.",
        }
