"""Sign-in through the OpenID Connect provider: match users by subject, apply the role claim.

mozilla-django-oidc does the authorization code flow (PKCE, state, nonce, token exchange, JWKS);
this backend checks the ID token strictly (signature, issuer, audience, expiry), finds the user
by (issuer, subject) only, creates a developer account for a new subject, and sets the user's
roles from the role claim at every sign-in, so a group removed at the provider removes the role
(each role granted or removed is written to the audit log).
"""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from apis.audit import audit_by
from apis.permissions import PUBLISHERS_GROUP
from apis.selectors import PORTAL_DEVELOPERS_GROUP
from portal.models import OidcIdentity
from portal.oidc_discovery import ProviderUnavailable, oidc_setting

log = logging.getLogger("portico.oidc")
User = get_user_model()


def role_values(claims: dict) -> set[str]:
    """The role claim's values: a list of strings, or one string."""
    value = claims.get(settings.PORTICO_OIDC_ROLE_CLAIM)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple):
        return {item for item in value if isinstance(item, str)}
    return set()


def apply_roles(user, claims: dict) -> None:
    """Admin, publisher or developer, from the claim alone (roles given by hand are replaced);
    each role this grants or removes is written to the audit log."""
    values = role_values(claims)
    matched = {
        "admin": values & set(settings.PORTICO_OIDC_ADMIN_VALUES),
        "publisher": values & set(settings.PORTICO_OIDC_PUBLISHER_VALUES),
    }
    admin = bool(matched["admin"])
    publisher = admin or bool(matched["publisher"])
    publishers, _ = Group.objects.get_or_create(name=PUBLISHERS_GROUP)
    developers, _ = Group.objects.get_or_create(name=PORTAL_DEVELOPERS_GROUP)
    before = _rights(user, publishers, developers)
    user.is_superuser, user.is_staff = admin, publisher
    user.save(update_fields=["is_superuser", "is_staff"])
    if publisher:
        user.groups.add(publishers, developers)
    else:
        user.groups.remove(publishers)
        user.groups.add(developers)
    after = _rights(user, publishers, developers)
    for role, held in after.items():
        # A role counts as held only in full, and as removed only when nothing of it is left.
        if all(held) and not all(before[role]):
            _audit_role(user, role, "granted", matched.get(role))
        elif not any(held) and any(before[role]):
            _audit_role(user, role, "removed", matched.get(role))


def _rights(user, publishers: Group, developers: Group) -> dict[str, tuple[bool, ...]]:
    """What makes up each role: admin is the superuser flag, publisher staff plus the group."""
    groups = set(
        user.groups.filter(pk__in=[publishers.pk, developers.pk]).values_list("pk", flat=True)
    )
    return {
        "admin": (user.is_superuser,),
        "publisher": (user.is_staff, publishers.pk in groups),
        "developer": (developers.pk in groups,),
    }


def _audit_role(user, role: str, change: str, matched: set[str] | None) -> None:
    # Only the claim's values that decided are written: a groups claim often lists many more.
    fields = {"user": user.get_username(), "user_id": user.pk}
    fields["claim"] = settings.PORTICO_OIDC_ROLE_CLAIM
    if matched is not None:
        fields["matched"] = ",".join(sorted(matched)) or "none"
    audit_by("OpenID Connect sign-in", f"role {role} {change}", **fields)


def _discovered(name: str):
    return property(lambda self: oidc_setting(name))


class OidcBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)
    # Django builds every backend for each sign-in and each signed-in request: the endpoints are
    # looked up (discovery, cached) only when a sign-in through the provider needs them.
    OIDC_OP_TOKEN_ENDPOINT = _discovered("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _discovered("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _discovered("OIDC_OP_JWKS_ENDPOINT")

    def __init__(self, *args, **kwargs) -> None:  # mozilla's would run discovery right here
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None  # keys come from the provider's JWKS
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        """None (a failed sign-in, shown as such) for anything the provider or token got wrong."""
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, jwt.InvalidTokenError, ProviderUnavailable) as exc:
            log.warning("OpenID Connect sign-in refused: %s", exc)
        except requests.RequestException as exc:  # the token or userinfo request failed
            status = getattr(exc.response, "status_code", None)
            log.warning("OpenID Connect sign-in failed: %s (HTTP %s)", type(exc).__name__, status)
        return None

    def get_payload_data(self, token, key):
        """The ID token, checked in full: signature, issuer, audience (this client), expiry."""
        return jwt.decode(
            token,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=settings.PORTICO_OIDC_ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo claims, which must describe the ID token's subject (OIDC Core 5.3.2)."""
        claims = super().get_userinfo(access_token, id_token, payload)
        if str(claims.get("sub", "")) != str(payload["sub"]):
            raise SuspiciousOperation("userinfo describes another subject than the ID token")
        return {**payload, **claims}

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return User.objects.filter(
            oidc_identity__issuer=settings.PORTICO_OIDC_ISSUER,
            oidc_identity__subject=str(claims["sub"]),
        )

    @transaction.atomic
    def create_user(self, claims):
        user = User(username=self._free_username(claims), email=self._verified_email(claims))
        user.set_unusable_password()  # signs in through the provider only
        user.save()
        OidcIdentity.objects.create(
            user=user, issuer=settings.PORTICO_OIDC_ISSUER, subject=str(claims["sub"])
        )
        log.info("OpenID Connect: new account %s for a new subject", user.username)
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        email = self._verified_email(claims)
        if email and email != user.email:
            user.email = email
            user.save(update_fields=["email"])
        apply_roles(user, claims)
        OidcIdentity.objects.filter(user=user).update(last_sign_in_at=timezone.now())
        return user

    @staticmethod
    def _verified_email(claims) -> str:
        """Only an address the provider says it verified is kept (and never used to match)."""
        email = claims.get("email")
        if isinstance(email, str) and claims.get("email_verified") is True:
            return email[:254]
        return ""

    @staticmethod
    def _free_username(claims) -> str:
        wanted = str(claims.get("preferred_username") or claims.get("sub"))[:140]
        wanted = "".join(c for c in wanted if c.isalnum() or c in "@.+-_") or "user"
        candidate, number = wanted, 1
        while User.objects.filter(username=candidate).exists():
            number += 1
            candidate = f"{wanted}-{number}"
        return candidate
