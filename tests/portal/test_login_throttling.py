"""Sign-in throttling (django-axes): per account and per client address (issue 12, item 13)."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from apis import services

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
MESSAGE = "Too many failed sign-in attempts; try again in 15 minutes or ask an administrator"


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


def sign_in(client, path: str, password: str, username: str = "root", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_wrong_passwords_lock_the_account_then_the_right_one_is_refused(client, admin_user, path):
    from django.conf import settings

    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = sign_in(client, path, "wrong-password")
        assert response.status_code == 200 and MESSAGE not in response.content.decode()
    locked = sign_in(client, path, "wrong-password")
    assert locked.status_code == 429
    assert MESSAGE in locked.content.decode()

    refused = sign_in(client, path, PASSWORD)
    assert refused.status_code == 429
    assert MESSAGE in refused.content.decode()
    assert "_auth_user_id" not in client.session

    # The admin's unlock path: `manage.py axes_reset` (axes' admin pages do the same).
    call_command("axes_reset")
    assert sign_in(client, path, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_the_lock_is_per_account_from_any_address(client, admin_user):
    from django.conf import settings

    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")
    refused = sign_in(client, "/accounts/login/", PASSWORD, REMOTE_ADDR="198.51.100.99")
    assert refused.status_code == 429


def test_the_lock_is_per_address_across_accounts(client, admin_user):
    from django.conf import settings

    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", "wrong", username=f"guess{n}")
    refused = sign_in(client, "/accounts/login/", PASSWORD)  # same address, the real account
    assert refused.status_code == 429
    other = sign_in(client, "/accounts/login/", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302  # another address may still sign in


def test_an_admin_unlocks_one_account_by_name(client, admin_user):
    from django.conf import settings

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/admin/login/", "wrong")
    assert sign_in(client, "/admin/login/", PASSWORD).status_code == 429
    call_command("axes_reset_username", "root")
    assert sign_in(client, "/admin/login/", PASSWORD).status_code == 302


def test_token_authentication_is_not_throttled(client, admin_user):
    from django.conf import settings

    _, secret = services.create_access_token(user=admin_user, name="ci")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", "wrong")
    assert sign_in(client, "/accounts/login/", PASSWORD).status_code == 429
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/apis/").status_code == 200


@override_settings(PORTICO_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_client_address_follows_the_trusted_proxy_rule():
    from portal.loginthrottle import client_address

    factory = RequestFactory()
    forged = factory.post("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(forged) == "203.0.113.5"  # an untrusted peer cannot pick an address
    proxied = factory.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(proxied) == "198.51.100.1"
    chain = factory.post(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1, 10.0.0.3"
    )
    assert client_address(chain) == "198.51.100.1"  # the first untrusted hop from the right


def test_an_admin_unlocks_from_django_admin(client, admin_client, django_user_model):
    from axes.models import AccessAttempt
    from django.conf import settings

    user = django_user_model.objects.create_user("dev", "dev@example.com", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", "wrong", username="dev")
    assert sign_in(client, "/accounts/login/", PASSWORD, username="dev").status_code == 429
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    assert ids
    changelist = "/admin/axes/accessattempt/"
    confirm = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": ids})
    assert confirm.status_code == 200  # "are you sure?"
    done = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert done.status_code == 302
    assert sign_in(client, "/accounts/login/", PASSWORD, username="dev").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signing_in_before_activation_says_activate_first_and_never_locks(client):
    """Issue 29, item 13: the right password of a new account used to count as a failure."""
    import re

    from axes.models import AccessAttempt
    from django.conf import settings
    from django.core import mail

    signup = {"username": "newdev", "email": "newdev@example.com"}
    client.post("/accounts/signup/", {**signup, "password1": PASSWORD, "password2": PASSWORD})
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        early = sign_in(client, "/accounts/login/", PASSWORD, username="newdev")
        body = early.content.decode()
        assert early.status_code == 200
        assert "activate your account first" in body and MESSAGE not in body
    assert not AccessAttempt.objects.filter(username="newdev").exists()

    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert client.get(link).status_code == 302
    assert sign_in(client, "/accounts/login/", PASSWORD, username="newdev").status_code == 302


def test_wrong_passwords_for_an_account_not_yet_active_still_lock_it(client, django_user_model):
    from django.conf import settings

    django_user_model.objects.create_user("newdev", "newdev@example.com", PASSWORD, is_active=False)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/accounts/login/", "wrong", username="newdev")
    # Locked: the right password gets the lockout page, not a hint that it was right.
    locked = sign_in(client, "/accounts/login/", PASSWORD, username="newdev")
    body = locked.content.decode()
    assert locked.status_code == 429 and MESSAGE in body
    assert "activate your account first" not in body
