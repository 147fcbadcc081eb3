"""Every admin changelist and add page answers 200 for a superuser, with keys masked."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apis import services
from apis.models import Subscription

pytestmark = pytest.mark.django_db

MODELS = [model for model in admin.site._registry]


@pytest.fixture
def subscription():
    product = services.create_product(display_name="Starter")
    return services.create_subscription(display_name="s", product=product)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_pages(admin_client, subscription, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    add = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    # 403 only where adding is closed on purpose: tokens are created in the portal (shown once),
    # and axes' sign-in records are written by axes alone (admins view and delete them: unlock).
    closed = opts.model_name == "personalaccesstoken" or opts.app_label == "axes"
    assert add.status_code == (403 if closed else 200)


def test_global_policy_add_page_is_open_until_one_exists(admin_client):
    response = admin_client.get(reverse("admin:apis_globalpolicy_add"))
    assert response.status_code == 200


def test_keys_are_masked_in_the_subscription_list(admin_client, subscription):
    response = admin_client.get(reverse("admin:apis_subscription_changelist"))
    body = response.content.decode()
    assert subscription.primary_key not in body
    assert subscription.secondary_key not in body
    assert subscription.primary_key[:4] + "…" in body


def test_api_change_page_edits_products_and_gateways_in_place(admin_client):
    api = services.create_api(display_name="Chat", backend_url="ws://b.example/", url_suffix="c")
    response = admin_client.get(reverse("admin:apis_api_change", args=[api.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Api_gateways" in body and "Product_apis" in body


def test_admin_actions_change_state_and_report_refusals(admin_client, subscription):
    url = reverse("admin:apis_subscription_changelist")
    response = admin_client.post(
        url, {"action": "suspend_subscriptions", "_selected_action": [subscription.pk]}, follow=True
    )
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.SUSPENDED
    response = admin_client.post(
        url, {"action": "suspend_subscriptions", "_selected_action": [subscription.pk]}, follow=True
    )
    assert "cannot be suspended" in response.content.decode()


def test_admin_action_regenerates_one_key(admin_client, subscription):
    before = (subscription.primary_key, subscription.secondary_key)
    admin_client.post(
        reverse("admin:apis_subscription_changelist"),
        {"action": "regenerate_secondary_key", "_selected_action": [subscription.pk]},
    )
    subscription.refresh_from_db()
    assert subscription.primary_key == before[0]
    assert subscription.secondary_key != before[1]


def test_regenerating_a_node_token_in_admin_shows_it_once_and_keeps_its_hash(admin_client):
    from apis import selectors
    from apis.models import Gateway

    gateway = services.create_gateway(name="edge")
    url = reverse("admin:apis_gateway_changelist")
    response = admin_client.post(
        url, {"action": "regenerate_primary_token", "_selected_action": [gateway.pk]}
    )
    body = response.content.decode()
    token = body.split("<code>")[1].split("</code>")[0]
    assert token.startswith("pgw_")
    assert selectors.gateway_for_node_token(token) == gateway
    assert Gateway.objects.filter(primary_token_hash=token).count() == 0  # never stored in clear
    change = admin_client.get(reverse("admin:apis_gateway_change", args=[gateway.pk]))
    assert change.status_code == 200 and token not in change.content.decode()
    assert token not in admin_client.get(url).content.decode()


def test_a_refused_broker_password_is_not_shown_back_by_admin(admin_client):
    """The publisher form hides a refused literal broker password; admin's form must as well."""
    api = services.create_api(display_name="Feed", backend_url="ws://b.example/", url_suffix="f")
    url = reverse("admin:apis_api_change", args=[api.pk])
    page = admin_client.get(url)
    data = {
        name: value
        for name, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    data["backend_url"] = "redis://reader:hunter2@127.0.0.1:6379/0"
    response = admin_client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200  # the form again, with the field's message
    assert "store it as a secret named value" in body
    assert "hunter2" not in body
    api.refresh_from_db()
    assert api.backend_url == "ws://b.example/"
