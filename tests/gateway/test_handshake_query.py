"""The handshake's query parsing gives exactly parse_qsl's pairs, with or without its fast path."""

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from gateway.handshake.request import parse_query


@given(st.text(alphabet="ab=&%2F+;x é", max_size=40))
def test_parse_query_is_parse_qsl(raw):
    assert parse_query(raw) == parse_qsl(raw, keep_blank_values=True)


def test_the_usual_handshake_query():
    raw = "subscription-key=k1&access_token=a.b.c&empty=&flag&&x=1=2"
    assert parse_query(raw) == [
        ("subscription-key", "k1"),
        ("access_token", "a.b.c"),
        ("empty", ""),
        ("flag", ""),
        ("x", "1=2"),
    ]
