"""Roles the OpenID Connect claim grants or removes at sign-in are written to the audit log."""

import logging

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from apis.permissions import PUBLISHERS_GROUP
from portal.oidc_backend import OidcBackend

pytestmark = pytest.mark.django_db
ROLES = {
    "PORTICO_OIDC_ISSUER": "https://idp.example/realm",
    "PORTICO_OIDC_ROLE_CLAIM": "groups",
    "PORTICO_OIDC_ADMIN_VALUES": ["portico-admins"],
    "PORTICO_OIDC_PUBLISHER_VALUES": ["api-team", "platform"],
    "OIDC_RP_CLIENT_ID": "portico",
    "OIDC_RP_CLIENT_SECRET": "client-secret",
    "OIDC_RP_SIGN_ALGO": "RS256",
}


def audit_lines(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "portico.audit"]
    caplog.clear()
    return lines


@override_settings(**ROLES)
def test_each_role_granted_or_removed_at_sign_in_is_audited_with_the_claim(caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    backend = OidcBackend()
    claims = {"sub": "s-1", "preferred_username": "dana", "groups": ["api-team", "chess-club"]}
    user = backend.create_user(claims)
    by = "by OpenID Connect sign-in"
    who = f"user=dana user_id={user.pk} claim=groups"
    assert audit_lines(caplog) == [
        f"role publisher granted: {who} matched=api-team {by}",
        f"role developer granted: {who} {by}",
    ]  # the unrelated group in the claim is never written

    backend.update_user(user, claims)  # nothing changes: nothing is written
    assert audit_lines(caplog) == []

    backend.update_user(user, {**claims, "groups": ["portico-admins"]})
    assert audit_lines(caplog) == [f"role admin granted: {who} matched=portico-admins {by}"]

    backend.update_user(user, {**claims, "groups": []})
    assert audit_lines(caplog) == [
        f"role admin removed: {who} matched=none {by}",
        f"role publisher removed: {who} matched=none {by}",
    ]


@override_settings(**ROLES)
def test_a_role_given_by_hand_and_replaced_by_the_claim_is_audited(caplog, django_user_model):
    caplog.set_level(logging.INFO, logger="portico.audit")
    user = django_user_model.objects.create_user("kim", is_staff=True)  # staff, not in the group
    OidcBackend().update_user(user, {"sub": "s-2", "groups": "platform"})
    user.refresh_from_db()
    assert user.groups.filter(name=PUBLISHERS_GROUP).exists()
    who = f"user=kim user_id={user.pk} claim=groups"
    assert audit_lines(caplog) == [
        f"role publisher granted: {who} matched=platform by OpenID Connect sign-in",
        f"role developer granted: {who} by OpenID Connect sign-in",
    ]

    # Only the group left by hand: the claim without the value removes what is left of the role.
    user.is_staff = False
    user.save()
    OidcBackend().update_user(user, {"sub": "s-2", "groups": []})
    assert not Group.objects.get(name=PUBLISHERS_GROUP).user_set.filter(pk=user.pk).exists()
    assert audit_lines(caplog) == [
        f"role publisher removed: {who} matched=none by OpenID Connect sign-in"
    ]
