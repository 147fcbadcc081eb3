"""The REST API's effective policy says which product's part applies to whom (issue 12 item 8)."""

import pytest

from apis import services

pytestmark = pytest.mark.django_db

DOC = "<policies><inbound><base />{}</inbound></policies>"


def test_effective_policy_has_one_part_per_product_and_one_without(client_for, objects):
    services.update_product(
        product=objects.product,
        policy_xml=DOC.format('<return-response><set-status code="503"/></return-response>'),
    )
    services.set_global_policy(
        policy_xml='<policies><inbound><ip-filter action="forbid">'
        "<address>10.0.0.1</address></ip-filter></inbound></policies>"
    )
    response = client_for("publisher").get("/api/v1/apis/chat/effectivePolicy")
    assert response.status_code == 200
    data = response.json()
    # Top level: all-APIs and API-scoped subscriptions get the API and All APIs parts only.
    assert data["applies_to"].startswith("all-APIs and API-scoped subscriptions")
    assert "ip-filter" in data["policy_xml"] and "return-response" not in data["policy_xml"]
    parts = {part["product"]: part for part in data["products"]}
    assert set(parts) == {"starter", "gated"}
    assert "return-response" in parts["starter"]["policy_xml"]
    assert parts["starter"]["applies_to"] == "subscribers of product Starter (starter)"
    assert "return-response" not in parts["gated"]["policy_xml"]
    assert "ip-filter" in parts["gated"]["policy_xml"]
