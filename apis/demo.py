"""Demo data: a gateway, the Echo API, the Starter product, two users and a subscription."""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from apis import services
from apis.asyncapi.reading import read
from apis.models import Api, Product, Subscription

DEMO_BACKEND_URL = "ws://127.0.0.1:9001/"
ECHO_ASYNCAPI = Path(__file__).with_name("demo_echo_asyncapi.yaml")  # the Echo API's contract


@dataclass
class DemoResult:
    admin_username: str
    admin_password: str | None  # None when the user already existed (the password is unchanged)
    developer_username: str
    developer_password: str | None
    api_suffix: str
    backend_url: str  # the echo backend the Echo API forwards to
    primary_key: str
    secondary_key: str
    subscription_id: int


def _ensure_user(username: str, *, staff: bool, groups: list[str]) -> tuple:
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=username, email=f"{username}@example.com", password=password
        )
        user.is_staff = user.is_superuser = staff
        user.save()
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user, password


@transaction.atomic
def load_demo(*, backend_url: str = DEMO_BACKEND_URL) -> DemoResult:
    """Create (or refresh) the demo catalog; safe to run again."""
    gateway = services.ensure_builtin_gateway()
    admin, admin_password = _ensure_user("admin", staff=True, groups=["Administrators"])
    developer, developer_password = _ensure_user("developer", staff=False, groups=["Developers"])

    api = Api.objects.filter(url_suffix="echo").first()
    if api is None:
        api = services.create_api(
            display_name="Echo",
            backend_url=backend_url,
            url_suffix="echo",
            gateways=[gateway],
            description="Echoes every text and binary message back.",
        )
    else:
        services.update_api(api=api, backend_url=backend_url, gateways=[gateway])
    contract = read(ECHO_ASYNCAPI.read_text(), need_backend=False).contract
    if api.asyncapi_contract != contract:
        services.update_api(api=api, asyncapi_contract=contract)

    product = Product.objects.filter(name="starter").first()
    if product is None:
        product = services.create_product(
            display_name="Starter",
            description="Try the demo APIs.",
            state=Product.State.PUBLISHED,
            subscriptions_limit=5,
            apis=[api],
            groups=Group.objects.filter(name__in=["Guests", "Developers"]),
        )
    else:
        product.apis.add(api)

    subscription = Subscription.objects.filter(owner=developer, product=product).first()
    if subscription is None:
        subscription = services.create_subscription(
            display_name="Developer's Starter subscription",
            owner=developer,
            product=product,
        )
    return DemoResult(
        admin_username=admin.username,
        admin_password=admin_password,
        developer_username=developer.username,
        developer_password=developer_password,
        api_suffix=api.url_suffix,
        backend_url=backend_url,
        primary_key=subscription.primary_key,
        secondary_key=subscription.secondary_key,
        subscription_id=subscription.pk,
    )
