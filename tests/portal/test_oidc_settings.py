"""OpenID Connect settings: what is refused at start-up, and local accounts turned off."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from tests.support.fresh_settings import load_settings

User = get_user_model()
OIDC_ONLY = {
    "PORTICO_OIDC_ISSUER": "https://idp.example/realm",
    "PORTICO_OIDC_CLIENT_ID": "portico",
    "PORTICO_OIDC_CLIENT_SECRET": "s3cret-client",
    "PORTICO_OIDC_PROVIDER_NAME": "Example SSO",
    "PORTICO_LOCAL_ACCOUNTS": False,
    "AUTHENTICATION_BACKENDS": [
        "axes.backends.AxesStandaloneBackend",
        "portal.oidc_backend.OidcBackend",
    ],
    "OIDC_RP_CLIENT_ID": "portico",
    "OIDC_RP_CLIENT_SECRET": "s3cret-client",
    "OIDC_RP_SIGN_ALGO": "RS256",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTICO_OIDC_ISSUER": "https://idp.example"}, "PORTICO_OIDC_CLIENT_ID"),
        (
            {
                "PORTICO_OIDC_ISSUER": "http://idp.example",
                "PORTICO_OIDC_CLIENT_ID": "a",
                "PORTICO_OIDC_CLIENT_SECRET": "b",
            },
            "must be an https:// URL",
        ),
        ({"PORTICO_LOCAL_ACCOUNTS": "0"}, "nobody could sign in"),
    ],
)
def test_settings_that_cannot_work_stop_the_start(env, message):
    result = load_settings(SECRET_KEY="k" * 50, ALLOWED_HOSTS="portico.example", **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "s3cret" not in result.stderr


@pytest.mark.django_db
@override_settings(**OIDC_ONLY)
def test_with_local_accounts_off_only_the_provider_signs_in(client):
    User.objects.create_user("local", "local@example.com", "local-pass-123")
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example SSO" in page
    assert 'name="password"' not in page and "Forgot your password" not in page
    refused = client.post("/accounts/login/", {"username": "local", "password": "local-pass-123"})
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/signup/").content.decode().count("Sign-up is closed") >= 1
    admin_login = client.get("/admin/login/").content.decode()
    assert "Sign in with Example SSO" in admin_login and 'name="password"' not in admin_login
    refused_admin = client.post(
        "/admin/login/", {"username": "local", "password": "local-pass-123"}
    )
    assert "_auth_user_id" not in client.session and refused_admin.status_code in (200, 403)


@pytest.mark.django_db
@override_settings(**{**OIDC_ONLY, "PORTICO_LOCAL_ACCOUNTS": True})
def test_with_local_accounts_on_both_ways_are_offered(client):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example SSO" in page and 'name="password"' in page
