"""Sign-in with OpenID Connect in a real browser, against a real provider in its own process.

The provider is django-oauth-toolkit (tests/support/oidc_provider); the portal is `run_portal`.
The browser follows the whole redirect flow (PKCE, state, nonce); the failure cases hand the
portal a wrong state, a replayed code and an expired ID token, and a group removed at the
provider removes the role at the next sign-in (each change in the portal's audit log).
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from apis.permissions import PUBLISHERS_GROUP
from portal.models import OidcIdentity
from tests.support.backend import free_port
from tests.support.oidc import OidcProvider
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()
FAILED = "did not work"


@pytest.fixture(scope="module")
def idp(django_db_setup, server_logs, tmp_path_factory):
    """The provider and a portal that signs in through it (lockout out of the tests' way)."""
    port = free_port()
    provider = OidcProvider(port, tmp_path_factory.mktemp("idp"))
    portal = ServerProcess(
        "portal", server_logs, port=port, PORTICO_LOGIN_FAILURE_LIMIT="100", **provider.portal_env()
    )
    yield provider, portal
    portal.stop()
    provider.stop()


def start_sign_in(page, portal) -> None:
    page.goto(f"{portal.http_url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()


def sign_in(page, portal, username: str, password: str) -> None:
    start_sign_in(page, portal)
    page.get_by_label("User").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Provider sign in").click()
    page.wait_for_url(f"{portal.http_url}/**")


def signed_in_as(page) -> bool:
    return page.get_by_role("button", name="Sign out").count() == 1


def sign_out(page, portal) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{portal.http_url}/")


def test_sign_in_matches_by_subject_and_roles_follow_the_provider_at_every_sign_in(idp, page):
    provider, portal = idp
    subject = provider.set_user(
        "dana", "dana-pass-1", email="dana@example.com", email_verified=True, groups=["api-team"]
    )
    sign_in(page, portal, "dana", "dana-pass-1")
    assert signed_in_as(page)
    identity = OidcIdentity.objects.select_related("user").get(subject=subject)
    user = identity.user
    assert identity.issuer == provider.issuer and user.email == "dana@example.com"
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name=PUBLISHERS_GROUP).exists()
    assert not user.has_usable_password()
    assert page.goto(f"{portal.http_url}/publisher/").status == 200
    granted = f"role publisher granted: user={user.username} user_id={user.pk} claim=groups"
    assert portal.logged(f"{granted} matched=api-team by OpenID Connect sign-in")

    # Sign-out ends the portal session and the provider's (its end-session endpoint).
    page.goto(f"{portal.http_url}/")
    sign_out(page, portal)
    assert not signed_in_as(page)
    start_sign_in(page, portal)
    assert page.get_by_role("button", name="Provider sign in").is_visible()  # asked again

    # The group removed at the provider: the role goes at the next sign-in.
    provider.set_user("dana", "dana-pass-1", email="dana@example.com", email_verified=True)
    sign_in(page, portal, "dana", "dana-pass-1")
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert not user.groups.filter(name=PUBLISHERS_GROUP).exists()
    removed = f"role publisher removed: user={user.username} user_id={user.pk} claim=groups"
    assert portal.logged(f"{removed} matched=none by OpenID Connect sign-in")
    refused = page.goto(f"{portal.http_url}/publisher/")
    assert refused.status == 403 or refused.url.startswith(f"{portal.http_url}/accounts/login/")

    # An admin group: admin at the next sign-in, Django admin included.
    page.goto(f"{portal.http_url}/")
    sign_out(page, portal)
    provider.set_user("dana", "dana-pass-1", groups=["portico-admins"])
    sign_in(page, portal, "dana", "dana-pass-1")
    user.refresh_from_db()
    assert user.is_superuser and user.is_staff
    assert User.objects.filter(oidc_identity__subject=subject).count() == 1  # the same account
    page.goto(f"{portal.http_url}/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()


def test_an_email_never_takes_over_an_existing_account(idp, page):
    provider, portal = idp
    owner = User.objects.create_superuser("owner", "eve@example.com", "owner-pass-9")
    provider.set_user("eve", "eve-pass-1", email="eve@example.com", email_verified=True)
    sign_in(page, portal, "eve", "eve-pass-1")
    assert signed_in_as(page)
    [signed_in] = User.objects.filter(
        oidc_identity__issuer=provider.issuer, username__startswith="eve"
    )
    assert signed_in.pk != owner.pk and not signed_in.is_superuser and not signed_in.is_staff
    assert not OidcIdentity.objects.filter(user=owner).exists()


def test_a_wrong_state_is_refused(idp, page):
    provider, portal = idp
    provider.set_user("fred", "fred-pass-1")
    start_sign_in(page, portal)  # the portal's session now holds a state of its own
    page.goto(f"{portal.http_url}/accounts/oidc/callback/?code=made-up&state=not-the-one")
    assert page.url.startswith(f"{portal.http_url}/accounts/login/")
    assert FAILED in page.get_by_role("status").inner_text()
    assert not signed_in_as(page)


def test_a_replayed_code_is_refused(idp, page):
    provider, portal = idp
    provider.set_user("gail", "gail-pass-1")
    callbacks = []
    page.on(
        "request",
        lambda request: "/accounts/oidc/callback/" in request.url and callbacks.append(request.url),
    )
    sign_in(page, portal, "gail", "gail-pass-1")
    assert signed_in_as(page) and len(callbacks) == 1
    used = parse_qs(urlsplit(callbacks[0]).query)
    sign_out(page, portal)
    # The same callback again: its state was spent.
    page.goto(callbacks[0])
    assert FAILED in page.get_by_role("status").inner_text() and not signed_in_as(page)
    # The used code with a fresh state of this browser's: the provider refuses the code.
    start_sign_in(page, portal)
    authorize = parse_qs(urlsplit(page.url).query)["next"][0]
    fresh_state = parse_qs(urlsplit(authorize).query)["state"][0]
    page.goto(
        f"{portal.http_url}/accounts/oidc/callback/?code={used['code'][0]}&state={fresh_state}"
    )
    assert FAILED in page.get_by_role("status").inner_text()
    assert not signed_in_as(page)


def test_an_expired_id_token_is_refused(django_db_setup, server_logs, tmp_path, page):
    port = free_port()
    provider = OidcProvider(port, tmp_path / "idp", id_token_seconds=-120)
    portal = ServerProcess("portal", server_logs, port=port, **provider.portal_env())
    try:
        provider.set_user("hana", "hana-pass-1")
        sign_in(page, portal, "hana", "hana-pass-1")
        assert page.url.startswith(f"{portal.http_url}/accounts/login/")
        assert FAILED in page.get_by_role("status").inner_text()
        assert not signed_in_as(page)
        assert not User.objects.filter(username="hana").exists()
    finally:
        portal.stop()
        provider.stop()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_sign_in_page_offers_both_ways_without_overlap(idp, page, width):
    _, portal = idp
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{portal.http_url}/accounts/login/")
    button = page.get_by_role("link", name="Sign in with Test IdP").bounding_box()
    form = page.locator("form.card.form").bounding_box()
    assert button and form
    assert button["y"] + button["height"] <= form["y"]  # stacked, not overlapping
    assert button["x"] >= 0 and button["x"] + button["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
