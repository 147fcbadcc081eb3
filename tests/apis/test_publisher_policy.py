"""The policy editor: snippets, validation with the error's line, the effective policy."""

import pytest
from django.urls import reverse

from apis import services
from apis.views.policy_editor import policy_from_snippet, snippet_choices
from gateway.policies import SNIPPETS, parse_document

pytestmark = pytest.mark.django_db
DOC = "<policies>\n    <inbound>\n        <base />\n{}    </inbound>\n</policies>\n"


@pytest.fixture
def api():
    return services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_every_snippet_offers_a_policy_that_parses_inside_a_document(name):
    policy = policy_from_snippet(SNIPPETS[name])
    assert "<base" not in policy and "<policies>" not in policy
    assert policy.lstrip().startswith("<")
    scope = "api"
    if "<on-message>" in SNIPPETS[name]:  # a message policy (either direction parses alike)
        document = f"<policies><on-message><inbound>{policy}</inbound></on-message></policies>"
    else:
        document = DOC.format(policy)
    parse_document(document, scope=scope)  # raises PolicyError if the cut is wrong


def test_editor_page_lists_snippets_and_shows_the_effective_policy(publisher, api):
    product = services.create_product(
        display_name="Gold",
        apis=[api],
        policy_xml=DOC.format('<rate-limit calls="5" renewal-period="60" />\n'),
    )
    response = publisher.get(reverse("publisher:api-policy", args=["echo"]))
    html = response.content.decode()
    assert 'id="policy-snippets"' in html and "check-header" in html
    assert len(response.context["snippets"]) == len(snippet_choices()) == len(SNIPPETS) + 3
    gold, no_product = response.context["effective_variants"]
    assert gold.product == product and "rate-limit" in gold.effective.to_xml()  # inherited
    assert "rate-limit" not in no_product.effective.to_xml()  # not for other subscriptions
    assert product.apis.count() == 1


def test_effective_policy_says_which_products_part_applies_to_whom(publisher, api):
    """Item 8 of issue 12: only the subscription's own product's policy applies."""
    services.create_product(
        display_name="Gold",
        apis=[api],
        policy_xml=DOC.format(
            '<ip-filter action="forbid"><address>10.0.0.1</address></ip-filter>\n'
        ),
    )
    services.create_product(
        display_name="Closed",
        apis=[api],
        policy_xml=DOC.format('<return-response><set-status code="503"/></return-response>\n'),
    )
    html = publisher.get(reverse("publisher:api-policy", args=["echo"])).content.decode()
    gold = html.index("For subscribers of product Gold")
    closed = html.index("For subscribers of product Closed")
    rest = html.index("For all-APIs and API-scoped subscriptions")
    assert "ip-filter" in html[gold:closed] and "return-response" not in html[gold:closed]
    assert "return-response" in html[closed:rest] and "ip-filter" not in html[closed:rest]
    assert "return-response" not in html[rest:] and "ip-filter" not in html[rest:]


def test_valid_policy_is_saved(publisher, api):
    url = reverse("publisher:api-policy", args=["echo"])
    response = publisher.post(url, {"policy_xml": SNIPPETS["check-header"]})
    assert response.status_code == 302 and response["Location"] == url
    api.refresh_from_db()
    assert api.policy_xml == SNIPPETS["check-header"]
    variants = publisher.get(url).context["effective_variants"]
    assert "X-Client" in variants[-1].effective.to_xml()


def test_broken_policy_shows_the_error_with_its_line_and_keeps_the_text(publisher, api):
    url = reverse("publisher:api-policy", args=["echo"])
    broken = SNIPPETS["check-header"].replace(
        'failed-check-httpcode="401"', 'failed-check-httpcode="x"'
    )
    response = publisher.post(url, {"policy_xml": broken})
    assert response.status_code == 200
    message = response.context["form"].errors["policy_xml"][0]
    assert message.startswith("line 4:") and "failed-check-httpcode" in message
    assert response.context["error_line"] == 4
    assert 'data-error-line="4"' in response.content.decode()
    assert "failed-check-httpcode=&quot;x&quot;" in response.content.decode()
    api.refresh_from_db()
    assert api.policy_xml == ""


def test_unparsable_xml_is_refused(publisher, api):
    url = reverse("publisher:api-policy", args=["echo"])
    response = publisher.post(url, {"policy_xml": "<policies><inbound>"})
    assert response.context["form"].errors["policy_xml"]
    api.refresh_from_db()
    assert api.policy_xml == ""


def test_product_policy_uses_the_same_editor(publisher):
    product = services.create_product(display_name="Gold")
    url = reverse("publisher:product-policy", args=["gold"])
    assert publisher.get(url).status_code == 200
    publisher.post(url, {"policy_xml": SNIPPETS["quota"]})
    product.refresh_from_db()
    assert 'quota calls="10000"' in product.policy_xml
    response = publisher.post(
        url, {"policy_xml": "<policies><inbound><nope/></inbound></policies>"}
    )
    assert response.context["form"].errors["policy_xml"]
    product.refresh_from_db()
    assert 'quota calls="10000"' in product.policy_xml


def test_the_editor_offers_the_supported_policies_names_for_completion():
    from apis.views.policy_editor import completion_vocabulary

    vocabulary = completion_vocabulary()
    assert {"policies", "inbound", "base", "check-header", "validate-jwt"} <= set(vocabulary)
    assert "failed-check-httpcode" in vocabulary["check-header"]
    assert "header-name" in vocabulary["validate-jwt"]
