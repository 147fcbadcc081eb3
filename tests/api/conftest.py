"""Users in each role, their tokens and clients, and a small catalog for the API tests."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from apis import services
from apis.models import Product, Subscription
from apis.permissions import PUBLISHERS_GROUP


@dataclass
class Objects:
    api: object
    product: object
    gateway: object
    own: Subscription  # the developer's active subscription
    others: Subscription  # another developer's subscription
    submitted: Subscription
    suspended: Subscription
    connection: str = ""  # a live connection of `own` (its id)
    others_connection: str = ""  # a live connection of `others`


def make_users() -> dict[str, User]:
    publishers, _ = Group.objects.get_or_create(name=PUBLISHERS_GROUP)
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw-admin-123")
    publisher = User.objects.create_user("publisher", "pub@example.com", "pw", is_staff=True)
    publisher.groups.add(publishers)
    staff = User.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    developer = User.objects.create_user("dev", "dev@example.com", "pw")
    other = User.objects.create_user("other", "other@example.com", "pw")
    return {
        "admin": admin,
        "publisher": publisher,
        "staff": staff,
        "dev": developer,
        "other": other,
    }


@pytest.fixture
def users(db) -> dict[str, User]:
    return make_users()


@pytest.fixture
def tokens(users) -> dict[str, str]:
    """A personal access token for each staff role (developers cannot create tokens)."""
    return {
        role: services.create_access_token(user=users[role], name=f"{role} token")[1]
        for role in ("admin", "publisher", "staff")
    }


@pytest.fixture
def client_for(users, tokens):
    """`client_for(role)`: bearer token for staff roles, a session for developers, or nobody."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role in tokens:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[role]}")
        elif role is not None:
            client.force_login(users[role])
        return client

    return make


def make_objects(users) -> Objects:
    gateway = services.create_gateway(name="edge", description="Edge nodes")
    api = services.create_api(
        display_name="Chat", backend_url="wss://chat.example/ws", url_suffix="chat"
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    gated = services.create_product(display_name="Gated", approval_required=True, apis=[api])
    own = services.create_subscription(display_name="Mine", owner=users["dev"], product=product)
    others = services.create_subscription(
        display_name="Theirs", owner=users["other"], product=product
    )
    submitted = services.create_subscription(
        display_name="Waiting", owner=users["other"], product=gated
    )
    suspended = services.create_subscription(
        display_name="Paused", owner=users["dev"], product=product
    )
    services.suspend_subscription(subscription=suspended)
    suspended.refresh_from_db()
    connection, others_connection = live_connections(api, own, others)
    return Objects(
        api, product, gateway, own, others, submitted, suspended, connection, others_connection
    )


def live_connections(api, *subscriptions) -> list[str]:
    """One open connection per subscription, as a managed gateway process reported it."""
    from django.utils import timezone

    from apis.telemetry import live_services

    opened = timezone.now().isoformat()
    entries = [
        {"id": f"{n:032x}", "api_id": api.pk, "api_name": api.name, "opened_at": opened}
        | {"subscription_id": sub.pk, "product_id": sub.product_id, "client_ip": "10.0.0.1"}
        for n, sub in enumerate(subscriptions, start=1)
    ]
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": "node-1", "worker": "1", "full": True, "opened": entries},
    )
    return [entry["id"] for entry in entries]


@pytest.fixture
def objects(users) -> Objects:
    return make_objects(users)
