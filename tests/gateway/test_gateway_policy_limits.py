"""A policy document beyond the expansion limits, already in the database (written before they
were checked at save time), is refused by the real gateway clearly and at once (issue 23 item 5):
the catalog build stops early, says why in the log, and handshakes get the 500 of a policy
that cannot be evaluated."""

import pytest

from apis.models import Api, GlobalPolicy, PolicyFragment, Product
from gateway.policies.fragments import MAX_DOCUMENT_POLICIES
from tests.support.client import refused, run
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

C = (
    '<fragment><set-header name="X-C" exists-action="append"><value>c</value>'
    "</set-header></fragment>"
)


def including(fragment_id: str, times: int) -> str:
    return (
        "<fragment>" + f'<include-fragment fragment-id="{fragment_id}" />' * times + ("</fragment>")
    )


@pytest.fixture
def cleanup():
    yield
    Api.objects.update(policy_xml="")
    Product.objects.update(policy_xml="")
    GlobalPolicy.objects.update(policy_xml="")
    PolicyFragment.objects.all().delete()


def test_a_stored_document_beyond_the_bound_is_refused_clearly(gateway, catalog, cleanup):
    # Written directly, as before the bound existed: no save-time validation runs.
    product = catalog.product
    product.policy_xml = (
        '<policies><inbound><base /><include-fragment fragment-id="A" /></inbound></policies>'
    )
    product.save()
    PolicyFragment.objects.create(name="C", xml=C)
    PolicyFragment.objects.create(name="B", xml=including("C", 300))
    PolicyFragment.objects.create(name="A", xml=including("B", 300))
    serve_current_catalog(gateway)  # bounded wait (10 s): today's full expansion took longer

    url = f"{gateway.ws_url}/echo?subscription-key={catalog.subscription.primary_key}"
    result = run(refused(url))
    assert result.status == 500, result
    assert result.body["message"] == "The API's policy could not be evaluated."
    log = gateway.output()
    assert f"policy of product '{product.name}' cannot be sent to gateways resolved" in log
    assert "including policy fragment 'A' here makes the document larger" in log
    assert f"more than {MAX_DOCUMENT_POLICIES} policies" in log
    assert "the control plane could not include them in this one (its log says why)" in log
