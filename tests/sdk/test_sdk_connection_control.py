"""send, broadcast, the tag filter and API tokens: the requests the SDK sends and how it reads
the answers, against a scripted server (exact bytes on the wire); tests/sdk/test_sdk_live_control.py
runs the same operations against the real gateway."""

import pytest

from portico_client import ApiToken, BroadcastResult, PorticoClient, PorticoError
from tests.support.scripted_http import Answer, ScriptedServer


def test_send_posts_text_or_base64_data_to_the_connection():
    sent = {"id": "abc123", "outcome": "delivered"}
    with ScriptedServer([], Answer(200, sent)) as server, PorticoClient(server.url, "t") as client:
        client.connections.send("abc123", text="hello")
        client.connections.send("abc123", data=b"\x00\xff")
    assert [(s.method, s.path, s.body) for s in server.seen] == [
        ("POST", "/api/v1/connections/abc123/messages/", {"text": "hello"}),
        ("POST", "/api/v1/connections/abc123/messages/", {"data": "AP8="}),
    ]


def test_send_needs_exactly_one_of_text_and_data():
    with PorticoClient("http://127.0.0.1:9", "t") as client:
        with pytest.raises(TypeError):
            client.connections.send("abc", text="a", data=b"b")
        with pytest.raises(TypeError):
            client.connections.send("abc")


def test_send_to_a_gone_connection_raises_404_with_the_problem():
    gone = {"status": 404, "errors": [{"field": None, "message": "Not found.", "code": "x"}]}
    with ScriptedServer([], Answer(404, gone)) as server, PorticoClient(server.url, "t") as client:
        with pytest.raises(PorticoError) as error:
            client.connections.send("abc", text="x")
    assert error.value.status == 404 and error.value.problem == gone


def test_broadcast_sends_the_selector_and_reads_the_counts():
    counts = {"matched": 3, "delivered": 2, "failed": 1}
    with ScriptedServer([], Answer(200, counts)) as server, PorticoClient(server.url, "t") as c:
        result = c.connections.broadcast(api="chat", tag="room=lobby", text="hi")
    assert isinstance(result, BroadcastResult) and (result.matched, result.delivered) == (3, 2)
    [seen] = server.seen
    assert (seen.method, seen.path) == ("POST", "/api/v1/connections/broadcast/")
    assert seen.body == {"api": "chat", "tag": "room=lobby", "text": "hi"}


def test_the_live_list_filters_by_tag_and_reads_the_tags():
    row = {"id": "abc", "api": "chat", "tags": {"room": "lobby"}, "opened_at": None}
    page = {"count": 1, "next": None, "previous": None, "results": [row]}
    with ScriptedServer([], Answer(200, page)) as server, PorticoClient(server.url, "t") as c:
        [connection] = c.connections.list(api="chat", tag="room=lobby")
    assert connection.tags == {"room": "lobby"}
    assert server.seen[0].path == "/api/v1/connections/?api=chat&tag=room%3Dlobby&limit=100"


def test_an_api_token_is_created_and_read_once():
    answer = {"name": "pusher", "token": "apt_secret", "api": "chat"}
    with ScriptedServer([], Answer(201, answer)) as server, PorticoClient(server.url, "t") as c:
        token = c.apis.create_token("chat", "pusher")
    assert isinstance(token, ApiToken) and token.token == "apt_secret"
    assert token.raw["api"] == "chat"
    assert (server.seen[0].path, server.seen[0].body) == (
        "/api/v1/apis/chat/tokens/",
        {"name": "pusher"},
    )
