"""Which client handshake headers are forwarded to the backend (issue 12 item 10)."""

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
