"""Named values and policy fragments through the management API, pages and admin: unknown
names refused with line and column, secrets never answered, in-use deletes refused, and every
change part of the catalog gateways receive (issue 14 items 3 and 4)."""

import pytest
from django.urls import reverse

from apis import selectors
from apis.models import Api, GlobalPolicy, NamedValue

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-Value-93ff1"
NAMED = (
    "<policies>\n  <inbound>\n"
    '    <check-header name="X-Secret" failed-check-httpcode="401" '
    'failed-check-error-message="no"><value>{{my-secret}}</value></check-header>\n'
    "  </inbound>\n</policies>"
)
MESSAGE = "line 3: column 102: unknown named value {{my-secret}}"


def test_unknown_name_is_refused_with_line_and_column_by_rest_and_apply(client_for, objects):
    client = client_for("publisher")
    response = client.put("/api/v1/apis/chat/policy/", {"policy_xml": NAMED}, format="json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["field"] == "policy_xml" and error["message"] == MESSAGE
    response = client.put("/api/v1/policies/global", {"policy_xml": NAMED}, format="json")
    assert response.status_code == 400 and MESSAGE in response.content.decode()
    document = {"apis": [{"name": "chat", "policy_xml": NAMED}]}
    response = client.post("/api/v1/catalog/apply/", document, format="json")
    assert response.status_code == 400 and MESSAGE in response.content.decode()
    assert Api.objects.get(name="chat").policy_xml == ""
    assert not GlobalPolicy.objects.filter(policy_xml=NAMED).exists()


def test_publisher_page_refuses_an_unknown_name_and_marks_the_line(client_for, objects, users):
    client = client_for(None)
    client.force_login(users["admin"])
    response = client.post(reverse("publisher:api-policy", args=["chat"]), {"policy_xml": NAMED})
    assert response.status_code == 200
    assert response.context["form"].errors["policy_xml"][0].startswith(MESSAGE)
    assert response.context["error_line"] == 3


def test_admin_refuses_an_unknown_name(client_for, objects, users):
    client = client_for(None)
    client.force_login(users["admin"])
    response = client.post(reverse("admin:apis_globalpolicy_add"), {"policy_xml": NAMED})
    assert response.status_code == 200 and MESSAGE in response.content.decode()


def test_secret_is_encrypted_masked_and_resolved_for_gateways(client_for, objects):
    client = client_for("publisher")
    body = {"name": "my-secret", "value": SECRET, "secret": True}
    response = client.post("/api/v1/namedValues/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["value"] is None and SECRET not in response.content.decode()
    stored = NamedValue.objects.get(name="my-secret")
    assert stored.value == "" and SECRET not in stored.encrypted_value
    assert stored.resolved_value() == SECRET
    revision = selectors.catalog_revision()
    response = client.put("/api/v1/apis/chat/policy/", {"policy_xml": NAMED}, format="json")
    assert response.status_code == 200, response.content
    assert SECRET not in response.content.decode()
    assert selectors.catalog_revision() != revision
    # The gateway's catalog carries the resolved text; nothing a publisher reads does.
    (api,) = selectors.gateway_catalog("managed").apis
    assert f"<value>{SECRET}</value>" in api.policy_xml
    for url in (
        "/api/v1/namedValues/",
        "/api/v1/namedValues/my-secret/",
        "/api/v1/apis/chat/policy/",
        "/api/v1/apis/chat/effectivePolicy/",
        "/api/v1/catalog/",
        "/api/schema/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    effective = client.get("/api/v1/apis/chat/effectivePolicy/").json()["policy_xml"]
    assert "<value>{{my-secret}}</value>" in effective
    listed = client.get("/api/v1/namedValues/my-secret/").json()
    assert listed["used_by"] == ["API 'chat'"]


def test_replacing_a_secret_keeps_it_when_no_value_is_sent(client_for, objects):
    client = client_for("publisher")
    client.post("/api/v1/namedValues/", {"name": "k", "value": "one", "secret": True}, "json")
    response = client.patch("/api/v1/namedValues/k/", {"description": "d"}, format="json")
    assert response.status_code == 200 and response.json()["value"] is None
    assert NamedValue.objects.get(name="k").resolved_value() == "one"
    response = client.patch("/api/v1/namedValues/k/", {"value": "two"}, format="json")
    assert response.status_code == 200
    assert NamedValue.objects.get(name="k").resolved_value() == "two"
    response = client.patch("/api/v1/namedValues/k/", {"secret": False}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "value"


def test_bad_names_are_400_with_the_field(client_for, objects):
    client = client_for("publisher")
    response = client.post("/api/v1/namedValues/", {"name": "a b", "value": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"
    response = client.post("/api/v1/namedValues/", {"name": "x" * 257, "value": "x"}, "json")
    assert response.status_code == 400
    response = client.post("/api/v1/namedValues/", {"name": "ok", "value": "{{a}}"}, "json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "value"


def test_a_named_value_in_use_cannot_be_deleted_or_broken(client_for, objects):
    client = client_for("publisher")
    client.post("/api/v1/namedValues/", {"name": "my-secret", "value": "v"}, format="json")
    client.put("/api/v1/apis/chat/policy/", {"policy_xml": NAMED}, format="json")
    response = client.delete("/api/v1/namedValues/my-secret/")
    assert response.status_code == 409
    assert "API 'chat'" in response.json()["errors"][0]["message"]
    ip = '<policies><inbound><ip-filter action="allow"><address>{{ip}}</address></ip-filter>'
    ip += "</inbound></policies>"
    client.post("/api/v1/namedValues/", {"name": "ip", "value": "10.0.0.1"}, format="json")
    assert (
        client.put("/api/v1/policies/global", {"policy_xml": ip}, format="json").status_code == 200
    )
    response = client.patch("/api/v1/namedValues/ip/", {"value": "not an ip"}, format="json")
    assert response.status_code == 400, response.content
    assert "All APIs would no longer be valid" in response.json()["errors"][0]["message"]


FRAGMENT = (
    '<fragment>\n  <check-header name="X-Team" failed-check-httpcode="403" '
    'failed-check-error-message="team"><value>{{team}}</value></check-header>\n</fragment>'
)
INCLUDES = '<policies><inbound><include-fragment fragment-id="team-check" /></inbound></policies>'


def test_fragments_are_managed_included_and_resolved(client_for, objects):
    client = client_for("publisher")
    client.post("/api/v1/namedValues/", {"name": "team", "value": "blue"}, format="json")
    response = client.post(
        "/api/v1/policyFragments/", {"name": "team-check", "xml": FRAGMENT}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (
        client.put("/api/v1/apis/chat/policy/", {"policy_xml": INCLUDES}, "json").status_code == 200
    )
    (api,) = selectors.gateway_catalog("managed").apis
    assert "<value>blue</value>" in api.policy_xml and "include-fragment" not in api.policy_xml
    assert client.get("/api/v1/namedValues/team/").json()["used_by"] == [
        "API 'chat'",
        "policy fragment 'team-check'",
    ]
    assert client.get("/api/v1/policyFragments/team-check/").json()["used_by"] == ["API 'chat'"]
    response = client.delete("/api/v1/policyFragments/team-check/")
    assert response.status_code == 409 and "API 'chat'" in response.content.decode()
    response = client.delete("/api/v1/namedValues/team/")
    assert response.status_code == 409
    # A change that breaks a policy including it is refused, naming the policy.
    bad = FRAGMENT.replace("check-header", "limit-message-size", 1)
    response = client.patch("/api/v1/policyFragments/team-check/", {"xml": bad}, format="json")
    assert response.status_code == 400
    response = client.patch(
        "/api/v1/policyFragments/team-check/", {"xml": FRAGMENT.replace("403", "401")}, "json"
    )
    assert response.status_code == 200
    (api,) = selectors.gateway_catalog("managed").apis
    assert 'failed-check-httpcode="401"' in api.policy_xml


def test_fragment_errors_name_line_and_column(client_for, objects):
    client = client_for("publisher")
    xml = '<fragment>\n  <include-fragment fragment-id="me" />\n</fragment>'
    response = client.post("/api/v1/policyFragments/", {"name": "me", "xml": xml}, "json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "xml" and error["message"].startswith("line 2: <include-fragment>:")
    assert "column 3" in error["message"] and "cycle: me -> me" in error["message"]
    response = client.put(
        "/api/v1/apis/chat/policy/", {"policy_xml": INCLUDES.replace("team-check", "x")}, "json"
    )
    assert response.status_code == 400
    assert (
        "line 1: <include-fragment>: column 20: unknown policy fragment 'x'"
        in (response.json()["errors"][0]["message"])
    )
