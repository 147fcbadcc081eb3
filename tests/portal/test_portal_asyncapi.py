"""The developer portal's API page shows the AsyncAPI messages and offers the document."""

import html
import json

import pytest
import yaml
from django.contrib.auth.models import Group, User

from apis import services
from apis.asyncapi import schema_check
from apis.asyncapi.reading import read
from apis.demo import ECHO_ASYNCAPI
from apis.models import Product
from tests.apis.asyncapi_documents import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    guests = Group.objects.get_or_create(name="Guests")[0]
    contract = read(text("chat-3.0.json"), need_backend=False).contract
    api = services.create_api(
        display_name="Chat Rooms",
        backend_url="wss://chat.example.com/v2",
        url_suffix="chat",
        asyncapi_contract=contract,
    )
    services.create_product(
        display_name="Open", state=Product.State.PUBLISHED, apis=[api], groups=[guests]
    )
    return api


def test_the_page_shows_channels_messages_directions_trees_and_examples(client, api):
    response = client.get("/apis/chat-rooms/")
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert 'data-channel="room"' in body and 'data-channel="presence"' in body
    assert "address <code>/rooms/{roomId}</code>" in body
    assert "<dt><code>{roomId}</code></dt><dd>The room's id." in body  # address parameters
    chat = body.split('data-message="chatMessage"')[1].split("</article>")[0]
    assert "Chat message" in chat and "You send" in chat and "You receive" in chat
    assert '<code class="schema-name">text</code> <span class="schema-type">string</span>' in chat
    assert '<span class="badge schema-required">required</span>' in chat
    assert "minLength: 1" in chat  # from the inlined components/schemas/text
    assert "Example: hello" in chat and '"text": "Hello, room!"' in chat
    joined = body.split('data-message="joined"')[1].split("</article>")[0]
    assert "You receive" in joined and "You send" not in joined
    # the console gets the examples (what the client may send) and what it may receive
    console = json.loads(body.split('<script type="application/json">')[1].split("</script>")[0])
    assert [e["label"] for e in console["examples"]] == ["room · Chat message · hello"]
    assert [m["name"] for m in console["receive"]] == [
        "room · Chat message",
        "room · Joined",
        "room · typing",
        "presence · roster",
    ]
    assert "Example from the AsyncAPI document" in body
    assert 'href="/apis/chat-rooms/asyncapi.yaml"' in body


def test_the_document_downloads_for_whoever_may_see_the_api(client, api):
    response = client.get("/apis/chat-rooms/asyncapi.yaml")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="chat-rooms-asyncapi.yaml"'
    document = yaml.safe_load(response.content)
    assert schema_check.check(document) == "3.0.0"
    assert document["servers"]["wss"]["host"] == "testserver"
    assert client.get("/apis/chat-rooms/asyncapi.json").json() == document
    assert client.get("/apis/chat-rooms/asyncapi.xml").status_code == 404
    hidden = services.create_api(display_name="Hidden", backend_url="ws://h/", url_suffix="h")
    assert client.get(f"/apis/{hidden.name}/asyncapi.yaml").status_code == 404


def test_an_api_without_a_contract_says_so(client):
    guests = Group.objects.get_or_create(name="Guests")[0]
    api = services.create_api(display_name="Plain", backend_url="ws://p/", url_suffix="plain")
    services.create_product(
        display_name="Open", state=Product.State.PUBLISHED, apis=[api], groups=[guests]
    )
    body = client.get("/apis/plain/").content.decode()
    assert "has not described this API's messages" in body
    assert "Example from the AsyncAPI document" not in body


def test_the_demo_echo_api_ships_with_its_document(db):
    from apis.demo import load_demo

    Group.objects.get_or_create(name="Developers")
    load_demo(backend_url="ws://127.0.0.1:9/")
    from apis.models import Api

    echo = Api.objects.get(url_suffix="echo")
    assert echo.asyncapi_contract == read(ECHO_ASYNCAPI.read_text(), need_backend=False).contract
    [channel] = echo.asyncapi_contract["channels"]
    assert [(m["name"], m["directions"]) for m in channel["messages"]] == [
        ("greeting", ["send", "receive"]),
        ("text", ["send", "receive"]),
    ]
    assert User.objects.filter(username="developer").exists()
