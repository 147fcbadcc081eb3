"""Personal access tokens: bearer authentication, and the portal pages that issue them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apis import services
from apis.models import PersonalAccessToken, hash_token

pytestmark = pytest.mark.django_db


def call(secret: str | None, header: str | None = None):
    client = APIClient()
    if header or secret:
        client.credentials(HTTP_AUTHORIZATION=header or f"Bearer {secret}")
    return client.get("/api/v1/apis/")


def test_a_valid_token_authenticates_and_records_its_use_once_a_minute(users):
    token, secret = services.create_access_token(user=users["publisher"], name="ci")
    assert call(secret).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert call(secret).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use  # not rewritten within the minute
    PersonalAccessToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    assert call(secret).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first_use


@pytest.mark.parametrize(
    "spoil",
    ["revoked", "expired", "inactive user", "unknown", "malformed", "wrong scheme"],
)
def test_unusable_tokens_get_401_with_a_json_body(users, spoil):
    token, secret = services.create_access_token(user=users["publisher"], name="ci")
    header = None
    if spoil == "revoked":
        services.revoke_access_token(token=token)
    elif spoil == "expired":
        PersonalAccessToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif spoil == "inactive user":
        users["publisher"].is_active = False
        users["publisher"].save()
    elif spoil == "unknown":
        secret = PersonalAccessToken.new_secret()
    elif spoil == "malformed":
        header = "Bearer not-a-pat"
    elif spoil == "wrong scheme":
        header = f"Token {secret}"
    response = call(secret, header)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["errors"][0]["message"]


def test_staff_create_a_token_shown_once_and_stored_hashed(client, users):
    client.force_login(users["staff"])
    response = client.post(reverse("portal:token-create"), {"name": "deploys"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("pat_") and secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    token = PersonalAccessToken.objects.get(user=users["staff"])
    assert token.token_hash == hash_token(secret)
    stored = [str(v) for v in PersonalAccessToken.objects.values_list().get()]
    assert secret not in stored
    listing = client.get(reverse("portal:token-list")).content.decode()
    assert "deploys" in listing and token.token_prefix in listing and secret not in listing


def test_staff_revoke_only_their_own_tokens(client, users):
    mine, _ = services.create_access_token(user=users["staff"], name="mine")
    theirs, _ = services.create_access_token(user=users["publisher"], name="theirs")
    client.force_login(users["staff"])
    assert client.post(reverse("portal:token-revoke", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("portal:token-revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_developers_cannot_have_token_pages(client, users):
    assert client.get(reverse("portal:token-list")).status_code == 302  # sign in first
    client.force_login(users["dev"])
    assert client.get(reverse("portal:token-list")).status_code == 403
    assert client.post(reverse("portal:token-create"), {"name": "x"}).status_code == 403
    assert not PersonalAccessToken.objects.exists()


def test_tokens_work_only_while_their_user_is_active_staff(users):
    """The rule (docs/management-api.md): a token stops working when its user loses staff or is
    deactivated."""
    publisher = users["publisher"]
    _, secret = services.create_access_token(user=publisher, name="ci")
    assert call(secret).status_code == 200

    publisher.is_staff = False
    publisher.save()
    refused = call(secret)
    assert refused.status_code == 401
    assert "staff" in refused.json()["errors"][0]["message"]

    publisher.is_staff = True
    publisher.save()
    assert call(secret).status_code == 200

    # A developer's token (say, made before they lost staff) opens not even their own rows.
    _, dev_secret = services.create_access_token(user=users["dev"], name="old")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {dev_secret}")
    assert client.get("/api/v1/subscriptions/").status_code == 401
