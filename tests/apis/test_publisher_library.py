"""Publisher pages for named values, policy fragments and the policy reference (issue 14 items
3-5): list/add/edit/delete, a secret never in any page, in-use deletes refused naming the
policies, and a reference generated from the library that matches the parser and the docs."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from apis import services
from apis.models import NamedValue, PolicyFragment
from gateway.policies.document import MESSAGE_POLICY_TYPES, POLICY_TYPES
from gateway.policies.reference import REFERENCE, render_markdown
from gateway.policies.snippets import CATALOG_SNIPPETS, SNIPPETS

pytestmark = pytest.mark.django_db
SECRET = "page-secret-7b3c9d"
REFERENCE_PAGE = Path(__file__).resolve().parents[2] / "docs" / "policies" / "reference.md"


def test_add_edit_and_list_a_secret_without_ever_showing_it(publisher):
    add = reverse("publisher:named-value-create")
    data = {"name": "api-key", "value": SECRET, "secret": "on", "description": "d"}
    response = publisher.post(add, data)
    assert response.status_code == 302, response.content[:500]
    assert NamedValue.objects.get(name="api-key").resolved_value() == SECRET
    services.create_api(
        display_name="Chat", backend_url="wss://chat.example/ws", url_suffix="chat",
        policy_xml='<policies><inbound><check-header name="X-Key" failed-check-httpcode="401" '
        'failed-check-error-message="no"><value>{{api-key}}</value></check-header>'
        "</inbound></policies>",
    )  # fmt: skip
    edit = reverse("publisher:named-value-edit", args=["api-key"])
    pages = [
        reverse("publisher:named-value-list"),
        edit,
        reverse("publisher:api-policy", args=["chat"]),  # editor + effective policy
        reverse("publisher:named-value-delete", args=["api-key"]),
        reverse("admin:apis_namedvalue_changelist"),
    ]
    for url in pages:
        response = publisher.get(url)
        assert response.status_code in (200, 409), url
        assert SECRET not in response.content.decode(), url
    html = publisher.get(edit).content.decode()
    assert 'type="password"' in html and "API &#x27;chat&#x27;" in html  # used by, linked
    # Saving with the value left empty keeps the secret; a new value replaces it.
    response = publisher.post(edit, {"secret": "on", "value": "", "description": "new"})
    assert response.status_code == 302
    assert NamedValue.objects.get(name="api-key").resolved_value() == SECRET
    publisher.post(edit, {"secret": "on", "value": "replaced", "description": "new"})
    assert NamedValue.objects.get(name="api-key").resolved_value() == "replaced"


def test_deleting_asks_first_and_is_refused_while_in_use(publisher):
    services.create_named_value(name="team", value="blue")
    services.create_named_value(name="unused", value="x")
    services.create_policy_fragment(
        name="team-check",
        xml='<fragment><check-header name="X-Team" failed-check-httpcode="403" '
        'failed-check-error-message="no"><value>{{team}}</value></check-header></fragment>',
    )
    services.set_global_policy(
        policy_xml='<policies><inbound><include-fragment fragment-id="team-check" />'
        "</inbound></policies>"
    )
    url = reverse("publisher:named-value-delete", args=["team"])
    response = publisher.get(url)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Cannot delete" in html and "All APIs" in html and "team-check" in html
    assert publisher.post(url).status_code == 409 and NamedValue.objects.filter(name="team")
    url = reverse("publisher:fragment-delete", args=["team-check"])
    assert publisher.post(url).status_code == 409 and PolicyFragment.objects.exists()

    url = reverse("publisher:named-value-delete", args=["unused"])
    response = publisher.get(url)
    assert response.status_code == 200 and "Delete the named value unused?" in (
        response.content.decode()
    )
    assert NamedValue.objects.filter(name="unused").exists()  # asking deletes nothing
    assert publisher.post(url).status_code == 302
    assert not NamedValue.objects.filter(name="unused").exists()


def test_fragment_pages_validate_with_the_line(publisher):
    add = reverse("publisher:fragment-create")
    bad = "<fragment>\n  <check-header />\n</fragment>"
    response = publisher.post(add, {"name": "f", "xml": bad})
    assert response.status_code == 200
    assert response.context["form"].errors["xml"][0].startswith("line 2:")
    assert response.context["error_line"] == 2
    good = '<fragment>\n  <limit-message-size max-bytes="10" />\n</fragment>'
    assert publisher.post(add, {"name": "f", "xml": good}).status_code == 302
    listed = publisher.get(reverse("publisher:fragment-list")).content.decode()
    assert "<code>f</code>" in listed and "no policy" in listed
    edit = reverse("publisher:fragment-edit", args=["f"])
    response = publisher.post(edit, {"xml": good.replace("10", "20"), "description": "x"})
    assert response.status_code == 302
    assert 'max-bytes="20"' in PolicyFragment.objects.get(name="f").xml


ACCEPTED = {*POLICY_TYPES, *MESSAGE_POLICY_TYPES, "choose", "base", "include-fragment"}


def test_the_reference_page_lists_every_element_the_parser_accepts(publisher):
    assert {ref.tag for ref in REFERENCE} == ACCEPTED
    html = publisher.get(reverse("publisher:policy-reference")).content.decode()
    for tag in ACCEPTED:
        assert f'id="policy-{tag}"' in html, tag
    # Every attribute the snippets use is documented for its element.
    from defusedxml.ElementTree import fromstring

    documented = {ref.tag: {a.name for a in ref.attributes} for ref in REFERENCE}
    for document in (*SNIPPETS.values(), *CATALOG_SNIPPETS.values()):
        for element in fromstring(document).iter():
            if element.tag in documented:
                assert set(element.attrib) <= documented[element.tag], element.tag


def test_the_docs_reference_is_the_generated_one():
    text = REFERENCE_PAGE.read_text()
    found = re.search(
        r"<!-- policy-reference:start -->\n(.*?)<!-- policy-reference:end -->", text, re.S
    )
    assert found, "docs/policies/reference.md lacks the policy-reference markers"
    assert found[1] == render_markdown(), "run: python -m gateway.policies.reference"


def test_the_editor_links_the_reference_and_offers_fragment_and_named_value_snippets(publisher):
    services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    response = publisher.get(reverse("publisher:api-policy", args=["echo"]))
    html = response.content.decode()
    assert reverse("publisher:policy-reference") in html
    names = [s["name"] for s in response.context["snippets"]]
    assert "include-fragment" in names and "named value ({{name}})" in names
    assert response.context["vocabulary"]["include-fragment"] == ["fragment-id"]


def test_admin_stores_a_secret_through_the_services_and_never_renders_it(publisher):
    add = reverse("admin:apis_namedvalue_add")
    response = publisher.post(add, {"name": "adm", "secret": "on", "new_value": SECRET})
    assert response.status_code == 302, response.content[:2000]
    named = NamedValue.objects.get(name="adm")
    assert named.secret and named.resolved_value() == SECRET
    change = reverse("admin:apis_namedvalue_change", args=[named.pk])
    assert SECRET not in publisher.get(change).content.decode()
    response = publisher.post(change, {"secret": "on", "new_value": "", "description": "d"})
    assert response.status_code == 302
    assert NamedValue.objects.get(name="adm").resolved_value() == SECRET
    bad = publisher.post(add, {"name": "bad name", "new_value": "x"})
    assert bad.status_code == 200 and not NamedValue.objects.filter(name="bad name").exists()


def test_secrets_key_rules():
    from apis.secretbox import SecretsKeyError, _fernet

    with pytest.raises(SecretsKeyError, match="PORTICO_SECRETS_KEY is not set"):
        _fernet("", "some-secret-key", False)  # production: no key, no secrets
    derived = _fernet("", "some-secret-key", True)  # DEBUG/demo: derived from SECRET_KEY
    assert derived.decrypt(derived.encrypt(b"x")) == b"x"
    with pytest.raises(SecretsKeyError, match="must be a Fernet key"):
        _fernet("short", "k", False)


def test_admin_bulk_delete_spares_what_policies_use(publisher):
    used = services.create_named_value(name="used", value="v")
    spare = services.create_named_value(name="spare", value="v")
    services.set_global_policy(
        policy_xml='<policies><inbound><set-header name="X-A"><value>{{used}}</value>'
        "</set-header></inbound></policies>"
    )
    changelist = reverse("admin:apis_namedvalue_changelist")

    def bulk_delete(*pks):
        body = {"action": "delete_selected", "_selected_action": list(pks), "post": "yes"}
        return publisher.post(changelist, body)

    assert bulk_delete(used.pk, spare.pk).status_code == 403  # one is in use: nothing goes
    assert NamedValue.objects.count() == 2
    assert bulk_delete(spare.pk).status_code == 302
    assert list(NamedValue.objects.values_list("name", flat=True)) == ["used"]
