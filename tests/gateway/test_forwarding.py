"""Which client handshake headers are forwarded to the backend (issue 12 item 10)."""

from gateway.backend.open import BackendRequest
from gateway.handshake.forwarding import client_headers

OWN = frozenset({"sessionid", "csrftoken"})


def forward(*pairs: tuple[str, str], key_header: str = "Ocp-Apim-Subscription-Key") -> dict:
    raw = [(n.lower().encode(), v.encode("latin-1")) for n, v in pairs]
    return client_headers(raw, key_header=key_header, own_cookies=OWN)


def test_end_to_end_headers_pass_and_repeats_are_joined():
    out = forward(("X-Tenant", "acme"), ("Accept-Language", "fr"), ("X-Tenant", "beta"))
    assert out == {"x-tenant": "acme, beta", "accept-language": "fr"}


def test_hop_by_hop_handshake_and_gateway_headers_are_dropped():
    out = forward(
        ("Host", "gw"),
        ("Connection", "Upgrade, X-Hop"),
        ("Upgrade", "websocket"),
        ("X-Hop", "only for the next hop"),
        ("Sec-WebSocket-Key", "k"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Extensions", "permessage-deflate"),
        ("Sec-WebSocket-Protocol", "chat"),
        ("Content-Length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Trailer", "X"),
        ("Proxy-Authorization", "Basic x"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-Proto", "https"),
        ("X-Correlation-Id", "forged"),
        ("X-Kept", "yes"),
    )
    assert out == {"x-kept": "yes"}


def test_the_apis_key_header_is_dropped_whatever_its_name():
    out = forward(("X-Api-Key", "secret"), ("Other", "1"), key_header="X-API-Key")
    assert out == {"other": "1"}


def test_portal_cookies_are_removed_and_others_kept():
    out = forward(("Cookie", "sessionid=s; theme=dark;csrftoken=c"), ("Cookie", "lang=fr"))
    assert out == {"cookie": "theme=dark; lang=fr"}
    assert forward(("Cookie", "sessionid=s; csrftoken=c")) == {}


def test_the_backend_request_splits_origin_user_agent_and_the_rest_in_one_pass():
    """`split_headers` is `header("Origin")`, `header("User-Agent")` and `extra_headers()`
    together, whatever case a policy gave a name (the first of two spellings wins)."""
    request = BackendRequest(
        base="ws://backend",
        rest="/",
        query="",
        subprotocols=[],
        headers={
            "origin": "https://a.example",
            "X-Trace": "1",
            "User-Agent": "ua/1",
            "Origin": "https://b.example",
            "x-forwarded-for": "10.0.0.1",
            "user-agent": "ua/2",
        },
    )
    origin, user_agent, extra = request.split_headers()
    assert origin == request.header("Origin") == "https://a.example"
    assert user_agent == request.header("User-Agent") == "ua/1"
    assert extra == request.extra_headers() == [("X-Trace", "1"), ("x-forwarded-for", "10.0.0.1")]
    assert BackendRequest("ws://b", "", "", [], {}).split_headers() == (None, None, [])
