"""Every list answers in a bounded number of queries, however many rows it holds."""

import pytest
from django.utils import timezone

from apis import services
from apis.models import Product
from apis.telemetry import live_services

pytestmark = pytest.mark.django_db

LISTS = [
    ("publisher", "/api/v1/apis/"),
    ("publisher", "/api/v1/products/"),
    ("publisher", "/api/v1/gateways/"),
    ("publisher", "/api/v1/subscriptions/"),
    ("dev", "/api/v1/subscriptions/"),
    ("admin", "/api/v1/users/"),
    ("publisher", "/api/v1/catalog/"),
    ("publisher", "/api/v1/connections/"),
    ("dev", "/api/v1/connections/"),
    ("publisher", "/api/v1/namedValues/"),
    ("publisher", "/api/v1/policyFragments/"),
]
# The catalog also exports named values and policy fragments: two more queries, never per row.
FIRST_LIMIT = {"/api/v1/catalog/": 14}


def grow(users, n: int, start: int) -> None:
    for i in range(start, start + n):
        gateway = services.create_gateway(name=f"gw-{i}")
        api = services.create_api(
            display_name=f"Api {i}",
            backend_url=f"wss://b{i}.example/ws",
            url_suffix=f"api-{i}",
            gateways=[gateway],
        )
        product = services.create_product(
            display_name=f"Product {i}", state=Product.State.PUBLISHED, apis=[api]
        )
        sub = services.create_subscription(
            display_name=f"S {i}", owner=users["dev"], product=product
        )
        live_services.record_live_report(  # one open connection each, on its own node
            gateway_name=gateway.name,
            report={
                "node_id": f"node-{i}",
                "worker": "1",
                "opened": [
                    {
                        "id": f"grow{i:028x}",
                        "api_id": api.pk,
                        "product_id": product.pk,
                        "subscription_id": sub.pk,
                        "opened_at": timezone.now().isoformat(),
                    }
                ],
            },
        )
        services.create_named_value(name=f"nv-{i}", value="v", secret=i % 2 == 0)
        services.create_policy_fragment(
            name=f"f-{i}",
            xml=f'<fragment><set-header name="X-{i}"><value>{{{{nv-{i}}}}}</value></set-header>'
            "</fragment>",
        )
        services.update_api(
            api=api,
            policy_xml=f'<policies><inbound><include-fragment fragment-id="f-{i}" />'
            "</inbound></policies>",
        )


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_list_queries_do_not_grow_with_rows(
    role, path, client_for, users, objects, django_assert_max_num_queries
):
    client = client_for(role)
    grow(users, 3, 0)
    with django_assert_max_num_queries(FIRST_LIMIT.get(path, 12)) as small:
        assert client.get(path).status_code == 200
    grow(users, 12, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(path)
    assert response.status_code == 200
