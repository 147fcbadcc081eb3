"""Policy fragments multiplying each other are refused at save time with the limits a gateway
applies, naming the fragment and stopping at the include that crosses them (issue 23 item 5)."""

import pytest
from django.urls import reverse

from apis.models import PolicyFragment, Product
from gateway.policies import PolicyError, parse_document
from gateway.policies.fragments import MAX_DOCUMENT_POLICIES, resolve_text
from gateway.policies.xmlnode import MAX_DOCUMENT_CHARS

pytestmark = pytest.mark.django_db

C = (
    '<fragment><set-header name="X-C" exists-action="append"><value>c</value>'
    "</set-header></fragment>"
)


def including(fragment_id: str, times: int) -> str:
    """A fragment including `fragment_id` `times` times, one include per line from line 2."""
    return (
        "<fragment>\n"
        + f'  <include-fragment fragment-id="{fragment_id}" />\n' * times
        + ("</fragment>")
    )


# A includes B 300 times, B includes C 300 times: B holds 600 policies (each include counts),
# so A passes the bound while expanding its 4th include of B, on line 5 of A's text. An error
# there (not after the 300th) shows the check stops early instead of expanding everything.
STOPPED_AT = "line 5: <include-fragment>: column 3: including policy fragment 'B' here makes"


def test_rest_api_refuses_a_fragment_multiplying_others(client_for, objects):
    client = client_for("publisher")
    for name, xml in (("C", C), ("B", including("C", 300))):
        response = client.post("/api/v1/policyFragments/", {"name": name, "xml": xml}, "json")
        assert response.status_code == 201, response.content[:300]
    response = client.post(
        "/api/v1/policyFragments/", {"name": "A", "xml": including("B", 300)}, "json"
    )
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["field"] == "xml"
    assert error["message"].startswith(STOPPED_AT), error["message"]
    assert "policy fragment 'A' larger than a gateway accepts" in error["message"]
    assert f"more than {MAX_DOCUMENT_POLICIES} policies" in error["message"]
    assert not PolicyFragment.objects.filter(name="A").exists()

    # A document including B four times is refused the same way, at its 4th include.
    four = "<policies>\n<inbound>\n" + '<include-fragment fragment-id="B" />\n' * 4
    four += "</inbound>\n</policies>"
    response = client.put(
        f"/api/v1/products/{objects.product.name}/policy/", {"policy_xml": four}, "json"
    )
    assert response.status_code == 400, response.content[:300]
    message = response.json()["errors"][0]["message"]
    assert message.startswith("line 6: <include-fragment>: column 1: including policy fragment")
    assert "'B' here makes the document larger than a gateway accepts" in message
    assert Product.objects.get(pk=objects.product.pk).policy_xml == ""


def test_publisher_page_refuses_it_and_marks_the_line(client, objects, users):
    client.force_login(users["admin"])
    add = reverse("publisher:fragment-create")
    for name, xml in (("C", C), ("B", including("C", 300))):
        assert client.post(add, {"name": name, "xml": xml}).status_code == 302
    response = client.post(add, {"name": "A", "xml": including("B", 300)})
    assert response.status_code == 200
    assert response.context["form"].errors["xml"][0].startswith(STOPPED_AT)
    assert response.context["error_line"] == 5
    assert not PolicyFragment.objects.filter(name="A").exists()


def test_changing_a_fragment_that_would_take_a_user_past_the_bound_is_refused(client_for, objects):
    client = client_for("publisher")
    client.post("/api/v1/policyFragments/", {"name": "C", "xml": C}, "json")
    client.post("/api/v1/policyFragments/", {"name": "B", "xml": including("C", 300)}, "json")
    bigger = C.replace(
        "</fragment>", 6 * C[len("<fragment>") : -len("</fragment>")] + "</fragment>"
    )
    response = client.patch("/api/v1/policyFragments/C/", {"xml": bigger}, "json")
    assert response.status_code == 400, response.content[:300]
    message = response.json()["errors"][0]["message"]
    assert message.startswith("policy fragment 'B' would no longer be valid:"), message
    assert f"more than {MAX_DOCUMENT_POLICIES} policies" in message


def big_address_list(count: int) -> str:
    addresses = "".join(
        f"<address>10.{n // 65536}.{n // 256 % 256}.{n % 256}</address>" for n in range(count)
    )
    return f'<fragment><ip-filter action="allow">{addresses}</ip-filter></fragment>'


def test_characters_are_bounded_as_the_gateway_bounds_them():
    """The bound on characters is the node's own (the text it parses), counted while expanding
    and checked on the very text a node receives, so save time and the gateway agree."""
    doc = "<policies><inbound>" + '<include-fragment fragment-id="big" />' * 3
    doc += "</inbound></policies>"
    # 3 x ~100k characters: refused at the include that crosses the bound, naming the fragment.
    big = {"big": big_address_list(3700)}
    with pytest.raises(PolicyError, match=f"more than {MAX_DOCUMENT_CHARS} characters") as info:
        parse_document(doc, fragments=big)
    assert "including policy fragment 'big' here" in str(info.value)
    # Fewer characters than the bound while counted, more once indented in the shipped text:
    # refused at save time and when resolving for nodes, by the same check.
    one = doc.replace('<include-fragment fragment-id="big" />', "", 2)
    near = {"big": big_address_list(7200)}
    for refuse in (
        lambda: parse_document(one, fragments=near),
        lambda: resolve_text(one, {}, near),
    ):
        with pytest.raises(PolicyError, match="is larger than a gateway accepts") as info:
            refuse()
        assert "once policy fragments 'big' are included" in str(info.value)
    # What passes at save time is what a node accepts.
    fits = {"big": big_address_list(6000)}
    saved = parse_document(one, fragments=fits)
    shipped = resolve_text(one, {}, fits)
    assert len(shipped) <= MAX_DOCUMENT_CHARS and parse_document(shipped) == saved


def test_includes_of_an_empty_fragment_count_too():
    """An include adds no text when its fragment is empty, but each one is work: it counts."""
    fragments = {"empty": "<fragment />", "many": including("empty", MAX_DOCUMENT_POLICIES)}
    doc = '<policies><inbound><include-fragment fragment-id="many" /></inbound></policies>'
    with pytest.raises(PolicyError, match=f"more than {MAX_DOCUMENT_POLICIES} policies") as info:
        parse_document(doc, fragments=fragments)
    assert "including policy fragment 'many' here makes the document" in str(info.value)
