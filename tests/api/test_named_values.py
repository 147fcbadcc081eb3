"""`{{named values}}` are refused, with their line, wherever a policy is saved (issue 12 item 11).

Portico has no named values yet; taken literally, a client sending the text `{{my-secret}}`
would pass a check-header.
"""

import pytest
from django.urls import reverse

from apis.models import Api, GlobalPolicy

pytestmark = pytest.mark.django_db

NAMED = (
    "<policies>\n  <inbound>\n"
    '    <check-header name="X-Secret"><value>{{my-secret}}</value></check-header>\n'
    "  </inbound>\n</policies>"
)
MESSAGE = "line 3: named values such as {{my-secret}} are not supported yet"


def test_rest_api_refuses_a_named_value_with_its_line(client_for, objects):
    client = client_for("publisher")
    response = client.put("/api/v1/apis/chat/policy/", {"policy_xml": NAMED}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert MESSAGE in response.content.decode()
    response = client.put("/api/v1/policies/global", {"policy_xml": NAMED}, format="json")
    assert response.status_code == 400 and MESSAGE in response.content.decode()
    assert Api.objects.get(name="chat").policy_xml == ""
    assert not GlobalPolicy.objects.filter(policy_xml=NAMED).exists()


def test_apply_refuses_a_named_value(client_for, objects):
    document = {"apis": [{"name": "chat", "policy_xml": NAMED}]}
    response = client_for("publisher").post("/api/v1/catalog/apply/", document, format="json")
    assert response.status_code == 400, response.content[:300]
    assert MESSAGE in response.content.decode()
    assert Api.objects.get(name="chat").policy_xml == ""


def test_publisher_page_refuses_a_named_value_and_marks_the_line(client_for, objects, users):
    client = client_for(None)
    client.force_login(users["admin"])
    url = reverse("publisher:api-policy", args=["chat"])
    response = client.post(url, {"policy_xml": NAMED})
    assert response.status_code == 200
    assert response.context["form"].errors["policy_xml"][0].startswith(MESSAGE)
    assert response.context["error_line"] == 3


def test_admin_refuses_a_named_value(client_for, objects, users):
    client = client_for(None)
    client.force_login(users["admin"])
    url = reverse("admin:apis_globalpolicy_add")
    response = client.post(url, {"policy_xml": NAMED})
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not GlobalPolicy.objects.filter(policy_xml=NAMED).exists()
