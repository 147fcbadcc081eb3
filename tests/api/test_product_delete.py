"""Deleting a product that still has subscriptions needs `?force=true` (issue 12, item 19)."""

import pytest

from apis.models import Product, Subscription

pytestmark = pytest.mark.django_db


def test_delete_refuses_while_subscriptions_exist_and_says_how_many(client_for, objects):
    client = client_for("publisher")
    count = Subscription.objects.filter(product=objects.product).count()
    assert count == 3  # own, others, suspended

    refused = client.delete(f"/api/v1/products/{objects.product.name}/")
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["status"] == 409
    assert [e["message"] for e in body["errors"]] == [
        "product 'starter' has 3 subscriptions; pass force=true to delete them too"
    ]
    assert Product.objects.filter(pk=objects.product.pk).exists()
    assert Subscription.objects.filter(product=objects.product).count() == 3

    forced = client.delete(f"/api/v1/products/{objects.product.name}/?force=true")
    assert forced.status_code == 204, forced.content
    assert not Product.objects.filter(pk=objects.product.pk).exists()
    assert not Subscription.objects.filter(pk=objects.own.pk).exists()


def test_a_product_without_subscriptions_deletes_without_force(client_for, objects):
    Subscription.objects.filter(product=objects.product).delete()
    response = client_for("publisher").delete(f"/api/v1/products/{objects.product.name}/")
    assert response.status_code == 204
    assert not Product.objects.filter(pk=objects.product.pk).exists()
