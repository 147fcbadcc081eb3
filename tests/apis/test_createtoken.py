"""`manage.py createtoken`: a working personal access token without a browser, shown once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from apis.models import PersonalAccessToken, hash_token

pytestmark = pytest.mark.django_db


def createtoken(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createtoken", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_only_the_token_which_works_on_the_management_api(client):
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    out, err = createtoken("admin", "--name", "ci")
    secret = out.strip()
    assert out == secret + "\n" and secret.startswith("pat_")  # alone: `$(…)` captures it
    assert "'ci' for admin (never expires); shown once" in err and secret not in err
    token = PersonalAccessToken.objects.get()
    assert token.token_hash == hash_token(secret) and token.expires_at is None
    answer = client.get("/api/v1/apis/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    refused = client.get("/api/v1/apis/", HTTP_AUTHORIZATION="Bearer pat_wrong")
    assert refused.status_code == 401


def test_expires_days_sets_the_expiry():
    User.objects.create_user("ops", password="pw", is_staff=True)
    earliest = timezone.now() + timedelta(days=30)
    out, err = createtoken("ops", "--expires-days", "30")
    latest = timezone.now() + timedelta(days=30)
    token = PersonalAccessToken.objects.get(user__username="ops")
    assert earliest <= token.expires_at <= latest
    assert "expires 20" in err and token.name == "manage.py createtoken"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody': create one with `manage.py createsuperuser`."),
        (["dev"], "'dev' is not active staff, and tokens work only for active staff"),
        (["admin", "--expires-days", "0"], "--expires-days: a whole number from 1 to 3650"),
        (["admin", "--expires-days", "soon"], "--expires-days: a whole number from 1 to 3650"),
        (["admin", "--name", "x" * 101], "name: Ensure this value has at most 100 characters"),
    ],
)
def test_refusals_say_what_to_do_and_create_nothing(args, message):
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    User.objects.create_user("dev", password="pw")
    with pytest.raises(CommandError) as refused:
        createtoken(*args)
    assert message in str(refused.value)
    assert not PersonalAccessToken.objects.exists()
