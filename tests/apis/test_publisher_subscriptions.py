"""Subscription actions from the publisher pages: every action allowed and refused, the list."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apis import services
from apis.models import Subscription
from apis.views.subscription_pages import ACTIONS
from tests.support.lifecycle import ALLOWED_TRANSITIONS

pytestmark = pytest.mark.django_db
State = Subscription.State

ALLOWED = ALLOWED_TRANSITIONS  # the pages offer every action but "expire"
CASES = [(action, state) for action in ACTIONS for state in State.values]


@pytest.fixture
def product():
    return services.create_product(display_name="Gold", approval_required=True)


def act(client, sub, action, next_url=""):
    url = reverse("publisher:subscription-action", args=[sub.pk])
    return client.post(url, {"action": action, "next": next_url})


def texts(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("action", "state"), [c for c in CASES if c in ALLOWED])
def test_allowed_action_changes_the_state(publisher, product, action, state):
    sub = services.create_subscription(display_name="Team", product=product, state=state)
    next_url = reverse("publisher:product-subscriptions", args=["gold"])
    response = act(publisher, sub, action, next_url)
    assert response.status_code == 302 and response["Location"] == next_url
    sub.refresh_from_db()
    assert sub.state == ALLOWED[(action, state)]
    assert texts(response) == [("success", f"Team is now {sub.get_state_display().lower()}.")]


@pytest.mark.parametrize(("action", "state"), [c for c in CASES if c not in ALLOWED])
def test_refused_action_shows_an_error_and_changes_nothing(publisher, product, action, state):
    sub = services.create_subscription(display_name="Team", product=product, state=state)
    response = act(publisher, sub, action)
    assert response["Location"] == reverse("publisher:subscription-list")
    sub.refresh_from_db()
    assert sub.state == state
    [(level, text)] = texts(response)
    assert level == "error" and text.startswith("Team: A ") and "cannot be" in text


def test_unknown_action_and_foreign_next_are_refused(publisher, product):
    sub = services.create_subscription(display_name="Team", product=product, state="active")
    response = act(publisher, sub, "expire", "https://evil.example/")
    assert response["Location"] == reverse("publisher:subscription-list")
    assert texts(response)[0][0] == "error"
    sub.refresh_from_db()
    assert sub.state == "active"


def test_list_filters_masks_keys_and_offers_only_allowed_actions(publisher, product):
    submitted = services.create_subscription(display_name="Waiting", product=product)
    active = services.create_subscription(display_name="Running", scope="all_apis")
    response = publisher.get("/publisher/subscriptions/")
    html = response.content.decode()
    for sub in (submitted, active):
        assert sub.primary_key not in html and sub.secondary_key not in html
        assert f"{sub.primary_key[:4]}…" in html
    actions = {r["subscription"].pk: r["actions"] for r in response.context["rows"]}
    assert actions == {
        submitted.pk: ["approve", "reject", "cancel"],
        active.pk: ["suspend", "cancel"],
    }
    rows = publisher.get("/publisher/subscriptions/", {"state": "submitted"}).context["rows"]
    assert [r["subscription"] for r in rows] == [submitted]
    rows = publisher.get("/publisher/subscriptions/", {"product": product.pk}).context["rows"]
    assert [r["subscription"] for r in rows] == [submitted]


def test_product_subscriptions_page_lists_only_that_product(publisher, product):
    mine = services.create_subscription(display_name="Mine", product=product)
    services.create_subscription(display_name="Elsewhere", scope="all_apis")
    page = publisher.get(reverse("publisher:product-subscriptions", args=["gold"]))
    assert [r["subscription"] for r in page.context["rows"]] == [mine]
    assert "next=/publisher/products/gold/subscriptions/" in page.content.decode()
