"""Product pages: list, add, edit (state, approval, limit, terms, groups, APIs) and errors."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from apis import services
from apis.models import Product

pytestmark = pytest.mark.django_db
ADD = "/publisher/products/add/"


def product_data(**overrides) -> dict:
    data = {
        "display_name": "Gold Plan",
        "name": "",
        "description": "For teams",
        "state": "published",
        "subscription_required": "on",
        "approval_required": "on",
        "subscriptions_limit": "2",
        "legal_terms": "Be nice.",
    }
    data.update(overrides)
    return data


def test_add_product_with_groups_and_apis(publisher):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    developers = Group.objects.get_or_create(name="Developers")[0]
    response = publisher.post(ADD, product_data(groups=[developers.pk], apis=[api.pk]))
    product = Product.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publisher:product-edit", args=["gold-plan"])
    assert (product.name, product.state, product.subscriptions_limit) == (
        "gold-plan",
        "published",
        2,
    )
    assert product.approval_required and product.subscription_required
    assert product.legal_terms == "Be nice."
    assert list(product.groups.all()) == [developers] and list(product.apis.all()) == [api]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "This field is required."),
        ("state", "live", "Select a valid choice."),
        ("subscriptions_limit", "-1", "Ensure this value is greater than or equal to 0."),
        ("subscriptions_limit", "many", "Enter a whole number."),
        ("name", "add", "'add' is reserved by the publisher pages"),
    ],
)
def test_bad_product_values_get_their_field_message(publisher, field, value, message):
    response = publisher.post(ADD, product_data(**{field: value}))
    errors = response.context["form"].errors
    assert list(errors) == [field] and errors[field][0].startswith(message)
    assert not Product.objects.exists()


def test_duplicate_product_name_is_refused(publisher):
    services.create_product(display_name="Gold Plan")
    errors = publisher.post(ADD, product_data()).context["form"].errors
    assert errors == {"name": ["A product named 'gold-plan' already exists; choose another name."]}
    assert Product.objects.count() == 1


def test_edit_product_changes_state_and_apis(publisher):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    product = services.create_product(display_name="Gold Plan", apis=[api])
    url = reverse("publisher:product-edit", args=["gold-plan"])
    initial = publisher.get(url).context["form"].initial
    assert initial["state"] == "not_published" and initial["apis"] == [api]
    data = product_data(name="gold-plan", state="not_published", subscriptions_limit="")
    data.pop("approval_required")
    assert publisher.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.state == "not_published" and product.subscriptions_limit is None
    assert not product.approval_required and product.apis.count() == 0


def test_product_list_shows_state_and_searches(publisher):
    services.create_product(display_name="Gold", state="published")
    services.create_product(display_name="Free")
    html = publisher.get("/publisher/products/").content.decode()
    assert "Gold" in html and "Free" in html and "Published" in html
    products = publisher.get("/publisher/products/", {"q": "gol"}).context["products"]
    assert [p.name for p in products] == ["gold"]
