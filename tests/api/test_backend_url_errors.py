"""Issue 29 item 2 through the REST API: an invalid backend URL is a 400 naming the field and
the reason, on an API, in catalog apply, from an AsyncAPI server and in set-backend-service."""

import pytest

from apis import services
from apis.models import Api

pytestmark = pytest.mark.django_db
SPACE_IN_HOST = "The host name cannot contain a space."


def test_the_rest_api_answers_400_with_field_and_reason(client_for):
    client = client_for("publisher")
    body = {"display_name": "Chat", "backend_url": "wss://exa mple.com", "url_suffix": "chat"}
    response = client.post("/api/v1/apis/", body, format="json")
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["field"], error["message"], error["code"]) == (
        "backend_url",
        SPACE_IN_HOST,
        "host",
    )
    services.create_api(display_name="Feed", backend_url="wss://feed.example/", url_suffix="feed")
    patched = client.patch("/api/v1/apis/feed/", {"backend_url": "ws://feed.example:0/"}, "json")
    assert patched.status_code == 400
    [error] = patched.json()["errors"]
    assert error["field"] == "backend_url" and "from 1 to 65535" in error["message"]
    assert Api.objects.get().backend_url == "wss://feed.example/"


def test_catalog_apply_names_the_api_and_field(client_for):
    document = {
        "apis": [
            {"name": "chat", "display_name": "Chat", "backend_url": "wss://exa mple.com",
             "url_suffix": "chat"},
        ]
    }  # fmt: skip
    response = client_for("publisher").post("/api/v1/catalog/apply/", document, format="json")
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert (error["field"], error["message"]) == ("apis[0].backend_url", SPACE_IN_HOST)
    assert not Api.objects.exists()


ASYNCAPI = """
asyncapi: 3.0.0
info: {title: Chat, version: "1"}
servers:
  backend: {host: "exa mple.com", protocol: wss}
channels: {}
"""


def test_asyncapi_import_refuses_a_server_with_an_invalid_host(client_for):
    client = client_for("publisher")
    response = client.post(
        "/api/v1/apis/import-asyncapi/", {"document": ASYNCAPI, "url_suffix": "chat"}, "json"
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["field"] == "backend_url" and error["message"] == SPACE_IN_HOST, error
    assert not Api.objects.exists()


def policy(base_url: str) -> str:
    return f'<policies>\n  <inbound>\n    <set-backend-service base-url="{base_url}" />\n' + (
        "  </inbound>\n</policies>"
    )


def test_set_backend_service_refuses_an_invalid_base_url_and_keeps_user_info(client_for):
    client = client_for("publisher")
    services.create_api(display_name="Chat", backend_url="wss://chat.example/", url_suffix="chat")
    url = "/api/v1/apis/chat/policy/"
    refused = client.put(url, {"policy_xml": policy("wss://exa mple.com/")}, "json")
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["field"] == "policy_xml"
    assert error["message"] == (
        'line 3: <set-backend-service> attribute "base-url": is not a valid URL: the host name '
        "cannot contain a space."
    )
    services.create_named_value(name="token", value="t0k3n-é+=", secret=True)
    kept = policy("wss://user:{{token}}@chat.example/räume/{{token}}?sig={{token}}")
    assert client.put(url, {"policy_xml": kept}, "json").status_code == 200
    assert Api.objects.get().policy_xml == kept


def test_a_secret_that_breaks_a_base_url_is_named_not_quoted(client_for):
    services.create_api(display_name="Chat", backend_url="wss://chat.example/", url_suffix="chat")
    services.create_named_value(name="host", value="in ternal", secret=True)
    response = client_for("publisher").put(
        "/api/v1/apis/chat/policy/", {"policy_xml": policy("wss://{{host}}/")}, "json"
    )
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert message == (
        'line 3: <set-backend-service> attribute "base-url": the value of named value host is '
        "not a valid URL: the host name cannot contain spaces or control characters."
    )
