"""Accounts: sign-up (on/off), e-mail confirmation, sign in/out, password reset, profile."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from portal.models import PortalSettings

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
SIGNUP = {
    "username": "newdev",
    "email": "newdev@example.com",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_signup_creates_an_inactive_developer_and_mails_a_link_that_activates_it(client):
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 200 and "Check your e-mail" in response.content.decode()
    user = User.objects.get(username="newdev")
    assert not user.is_active
    assert list(user.groups.values_list("name", flat=True)) == ["Developers"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newdev@example.com"]
    assert PASSWORD not in mail.outbox[0].body
    # Until the link is opened, signing in is refused, with a hint.
    refused = client.post(reverse("login"), {"username": "newdev", "password": PASSWORD})
    assert "not active yet" in refused.content.decode()
    activated = client.get(link_in(mail.outbox[0]))
    assert activated.status_code == 302 and activated.url == reverse("login")
    user.refresh_from_db()
    assert user.is_active
    signed_in = client.post(reverse("login"), {"username": "newdev", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get(reverse("portal:profile")).status_code == 200


def test_activation_link_is_single_use_and_tamper_proof(client):
    client.post(reverse("signup"), SIGNUP)
    link = link_in(mail.outbox[0])
    assert client.get(link[:-3] + "zzz/").status_code == 400
    assert not User.objects.get(username="newdev").is_active
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 400  # already used


def test_an_account_deactivated_by_an_admin_stays_off_when_its_link_is_opened_again(client):
    """Issue 23, item 8: the link used to work again once is_active was back to False."""
    client.post(reverse("signup"), SIGNUP)
    link = link_in(mail.outbox[0])
    assert client.get(link).status_code == 302
    user = User.objects.get(username="newdev")
    user.is_active = False  # what the admin's "Active" checkbox does
    user.save(update_fields=["is_active"])
    replayed = client.get(link)
    assert replayed.status_code == 400 and "not valid" in replayed.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_an_account_an_admin_activated_and_deactivated_stays_off_when_its_link_is_opened(client):
    """Activated by an admin (not by its link), then deactivated: the link is dead too."""
    client.post(reverse("signup"), SIGNUP)
    user = User.objects.get(username="newdev")
    for active in (True, False):  # the admin's Active checkbox, ticked then cleared
        user.is_active = active
        user.save()
    assert client.get(link_in(mail.outbox[0])).status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_never_opened_still_activates_an_account_an_admin_deactivated_first(client):
    """Deactivating before activation changes nothing about the (still unused) link."""
    client.post(reverse("signup"), SIGNUP)
    User.objects.filter(username="newdev").update(is_active=False)
    assert client.get(link_in(mail.outbox[0])).status_code == 302
    assert User.objects.get(username="newdev").is_active


def test_wrong_password_for_an_inactive_account_gets_the_generic_error(client):
    client.post(reverse("signup"), SIGNUP)
    refused = client.post(reverse("login"), {"username": "newdev", "password": "wrong-one-1"})
    body = refused.content.decode()
    assert "not active yet" not in body and "Please enter a correct username" in body


def test_signup_errors_keep_input_and_create_nothing(client):
    User.objects.create_user("taken", email="newdev@example.com")
    data = {**SIGNUP, "password2": "something-else-2"}
    response = client.post(reverse("signup"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "An account with this e-mail address already exists." in body
    assert "didn’t match" in body or "didn't match" in body
    assert 'value="newdev"' in body
    assert not User.objects.filter(username="newdev").exists() and not mail.outbox


def test_signup_turned_off_says_so_and_creates_nothing(client):
    PortalSettings.objects.create(signup_enabled=False)
    page = client.get(reverse("signup"))
    assert "Sign-up is closed" in page.content.decode()
    refused = client.post(reverse("signup"), SIGNUP)
    assert refused.status_code == 403
    assert not User.objects.filter(username="newdev").exists() and not mail.outbox


def test_sign_up_link_shows_only_while_sign_up_is_open(client):
    signup_link = f'href="{reverse("signup")}"'
    assert signup_link in client.get(reverse("portal:home")).content.decode()
    PortalSettings.objects.create(signup_enabled=False)
    assert signup_link not in client.get(reverse("portal:home")).content.decode()


def test_sign_out_is_a_post(client):
    user = User.objects.create_user("dev", password=PASSWORD)
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get(reverse("portal:profile")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    User.objects.create_user("dev", email="dev@example.com", password=PASSWORD)
    client.post(reverse("password_reset"), {"email": "dev@example.com"})
    assert len(mail.outbox) == 1
    form = client.get(link_in(mail.outbox[0]), follow=True)
    assert "Choose a new password" in form.content.decode()
    new = "another-horse-battery-7"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password changed" in done.content.decode()
    assert User.objects.get(username="dev").check_password(new)


def test_profile_updates_name_and_email_with_field_errors(client):
    User.objects.create_user("other", email="other@example.com")
    user = User.objects.create_user("dev", email="dev@example.com", password=PASSWORD)
    client.force_login(user)
    url = reverse("portal:profile")
    refused = client.post(
        url, {"first_name": "Ada", "last_name": "L", "email": "OTHER@example.com"}
    )
    assert refused.status_code == 400
    assert "Another account uses this e-mail address." in refused.content.decode()
    assert User.objects.get(pk=user.pk).email == "dev@example.com"
    client.post(url, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace", "ada@example.com")
