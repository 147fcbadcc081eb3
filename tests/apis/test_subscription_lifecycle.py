"""Subscription lifecycle: every transition allowed and refused, limits, key regeneration."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from apis import services
from apis.models import Subscription
from apis.services import TRANSITIONS
from tests.support.lifecycle import ALLOWED_TRANSITIONS

pytestmark = pytest.mark.django_db
State = Subscription.State

ALLOWED = ALLOWED_TRANSITIONS
ALL_CASES = [(action, state) for action in TRANSITIONS for state in State.values]


@pytest.fixture
def product():
    return services.create_product(display_name="Starter", subscriptions_limit=2)


def subscription_in(state: str, product) -> Subscription:
    sub = services.create_subscription(display_name="s", product=product, state=state)
    assert sub.state == state
    return sub


@pytest.mark.parametrize(("action", "state"), [c for c in ALL_CASES if c in ALLOWED])
def test_allowed_transition(product, action, state):
    sub = subscription_in(state, product)
    changed = services.change_subscription_state(subscription=sub, action=action, comment="ok")
    assert changed.state == ALLOWED[(action, state)]
    assert changed.state_comment == "ok"
    if changed.state == State.ACTIVE:
        assert changed.start_date is not None
    if changed.state in (State.CANCELLED, State.REJECTED, State.EXPIRED):
        assert changed.end_date is not None


@pytest.mark.parametrize(("action", "state"), [c for c in ALL_CASES if c not in ALLOWED])
def test_refused_transition(product, action, state):
    sub = subscription_in(state, product)
    with pytest.raises(ValidationError) as excinfo:
        services.change_subscription_state(subscription=sub, action=action)
    assert "cannot be" in excinfo.value.message_dict["state"][0]
    sub.refresh_from_db()
    assert sub.state == state


def test_cancelled_subscription_cannot_be_reactivated(product):
    sub = subscription_in(State.ACTIVE, product)
    services.cancel_subscription(subscription=sub)
    with pytest.raises(ValidationError):
        services.reactivate_subscription(subscription=sub)


def test_approval_required_product_starts_subscriptions_as_submitted():
    gated = services.create_product(display_name="Gated", approval_required=True)
    sub = services.create_subscription(display_name="s", product=gated)
    assert sub.state == State.SUBMITTED and sub.start_date is None
    assert services.approve_subscription(subscription=sub).state == State.ACTIVE


def test_product_limit_refuses_a_new_subscription_per_user(product):
    user = get_user_model().objects.create_user("dev", password="x-long-password")
    services.create_subscription(display_name="1", owner=user, product=product)
    second = services.create_subscription(display_name="2", owner=user, product=product)
    with pytest.raises(ValidationError) as excinfo:
        services.create_subscription(display_name="3", owner=user, product=product)
    assert "limit" in excinfo.value.message_dict["product"][0]
    services.cancel_subscription(subscription=second)  # a cancelled one frees its place
    services.create_subscription(display_name="3", owner=user, product=product)
    other = get_user_model().objects.create_user("other", password="x-long-password")
    services.create_subscription(display_name="o", owner=other, product=product)  # per user


@pytest.mark.parametrize(("which", "other"), [("primary", "secondary"), ("secondary", "primary")])
def test_regenerating_a_key_changes_exactly_that_key(product, which, other):
    sub = subscription_in(State.ACTIVE, product)
    before = {f: getattr(sub, f"{f}_key") for f in ("primary", "secondary")}
    services.regenerate_subscription_key(subscription=sub, which=which)
    sub.refresh_from_db()
    assert getattr(sub, f"{which}_key") != before[which]
    assert getattr(sub, f"{other}_key") == before[other]
