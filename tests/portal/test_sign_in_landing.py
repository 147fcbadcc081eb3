"""Where signing in lands (issue 29, item 5): publishers and administrators on the publisher
home, developers (and staff who are not publishers) on the developer home; a safe ?next= wins."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from apis.permissions import PUBLISHERS_GROUP

pytestmark = pytest.mark.django_db
PASSWORD = "landing-pass-1"


def user(username: str, *, publisher: bool = False, **fields) -> User:
    made = User.objects.create_user(username, password=PASSWORD, **fields)
    if publisher:
        made.groups.add(Group.objects.get_or_create(name=PUBLISHERS_GROUP)[0])
    return made


def sign_in(client, username: str, next_url: str = "") -> str:
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response.url


@pytest.mark.parametrize(
    ("fields", "landing"),
    [
        ({}, "portal:home"),  # a developer
        ({"is_staff": True}, "portal:home"),  # staff, but not a publisher: no publisher pages
        ({"is_staff": True, "publisher": True}, "publisher:index"),
        ({"is_staff": True, "is_superuser": True}, "publisher:index"),
    ],
)
def test_sign_in_lands_where_the_user_works(client, fields, landing):
    user("someone", **fields)
    assert sign_in(client, "someone") == reverse(landing)


def test_an_explicit_next_still_wins_for_a_publisher(client):
    user("boss", is_staff=True, is_superuser=True)
    assert sign_in(client, "boss", "/products/") == "/products/"


def test_an_unsafe_next_falls_back_to_the_publisher_home(client):
    user("boss", is_staff=True, is_superuser=True)
    assert sign_in(client, "boss", "https://evil.example/") == reverse("publisher:index")
