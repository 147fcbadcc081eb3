"""Property test: generated valid documents survive to_xml -> parse unchanged."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.policies import PolicyDocument, parse_document
from gateway.policies.backend import ReturnResponse, SetBackendService
from gateway.policies.concurrency import LimitConcurrency
from gateway.policies.expressions import SUPPORTED_EXPRESSIONS, parse_expression
from gateway.policies.headers import CheckHeader, SetHeader, SetQueryParameter
from gateway.policies.ipfilter import IpFilter
from gateway.policies.jwt_validation import RequiredClaim, SigningKey, ValidateJwt
from gateway.policies.model import Base
from gateway.policies.ratelimits import Quota, QuotaByKey, RateLimit, RateLimitByKey
from gateway.policies.variables import SetVariable

_chars = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffe\uffff"
)
text = st.text(_chars, min_size=1, max_size=12).map(str.strip).filter(bool)
names = st.text(string.ascii_letters + "-_", min_size=1, max_size=10).filter(
    lambda n: (
        n.lower() not in ("host", "connection", "upgrade")
        and not n.lower().startswith("sec-websocket-")
    )
)
exprs = st.sampled_from([parse_expression(e) for e in SUPPORTED_EXPRESSIONS])
values = st.one_of(text, exprs)
pos = st.integers(min_value=1, max_value=10**6)
ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


@st.composite
def ranges(draw):
    v = draw(st.sampled_from([4, 6]))
    a, b = sorted([draw(st.ip_addresses(v=v)), draw(st.ip_addresses(v=v))])
    return (str(a), str(b))


# Header values must be sendable as they are (Latin-1, no control characters); query values
# are percent-encoded, so they may be any text.
_latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=("Cc",))
header_values = st.one_of(
    st.text(_latin1, min_size=1, max_size=12).map(str.strip).filter(bool), exprs
)


def set_header_like(cls):
    any_values = values if cls is SetQueryParameter else header_values
    return st.one_of(
        st.builds(cls, name=names, exists_action=st.just("delete")),
        st.builds(
            cls,
            name=names,
            exists_action=st.sampled_from(["override", "skip", "append"]),
            values=st.lists(any_values, min_size=1, max_size=3).map(tuple),
        ),
    )


SECRET_KEY = SigningKey(text="c2VjcmV0LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmch")

policies = st.one_of(
    st.builds(
        CheckHeader,
        name=names,
        failed_check_httpcode=st.integers(400, 599),
        failed_check_error_message=text,
        ignore_case=st.booleans(),
        values=st.lists(values, max_size=3).map(tuple),
    ),
    st.builds(
        ValidateJwt,
        header_name=names,
        failed_validation_httpcode=st.integers(400, 599),
        failed_validation_error_message=st.one_of(st.none(), text),
        require_expiration_time=st.booleans(),
        require_scheme=st.one_of(st.none(), st.just("Bearer")),
        clock_skew=st.integers(0, 600),
        output_token_variable_name=st.one_of(st.none(), names),
        signing_keys=st.just((SECRET_KEY,)),
        openid_configs=st.lists(
            st.just("https://idp.example/.well-known/openid-configuration"), max_size=1
        ).map(tuple),
        audiences=st.lists(values, max_size=2).map(tuple),
        issuers=st.lists(values, max_size=2).map(tuple),
        required_claims=st.lists(
            st.builds(
                RequiredClaim,
                name=names,
                match=st.sampled_from(["all", "any"]),
                separator=st.one_of(st.none(), st.just(" "), st.just(",")),
                values=st.lists(values, max_size=2).map(tuple),
            ),
            max_size=2,
        ).map(tuple),
    ),
    st.builds(
        IpFilter,
        action=st.sampled_from(["allow", "forbid"]),
        addresses=st.lists(ips, min_size=1, max_size=3).map(tuple),
        ranges=st.lists(ranges(), max_size=2).map(tuple),
    ),
    st.builds(RateLimit, calls=pos, renewal_period=pos),
    st.builds(RateLimitByKey, calls=pos, renewal_period=pos, counter_key=values),
    st.builds(Quota, calls=pos, renewal_period=pos),
    st.builds(QuotaByKey, calls=pos, renewal_period=pos, counter_key=values),
    st.builds(LimitConcurrency, key=values, max_count=pos),
    set_header_like(SetHeader),
    set_header_like(SetQueryParameter),
    st.builds(
        SetBackendService,
        base_url=st.sampled_from(["ws://a.example", "wss://b.example:8443/x?y=1"]),
    ),
    st.builds(
        ReturnResponse,
        status_code=st.integers(400, 599),
        reason=st.one_of(st.none(), text),
        headers=st.lists(set_header_like(SetHeader), max_size=2).map(tuple),
        body=st.one_of(st.none(), text),
    ),
    st.builds(SetVariable, name=names, value=values),
)


@st.composite
def documents(draw):
    inbound = draw(st.lists(policies, max_size=5))
    if draw(st.booleans()):
        inbound.insert(draw(st.integers(0, len(inbound))), Base())
    other = st.one_of(st.none(), st.just(()), st.just((Base(),)))
    return PolicyDocument(
        inbound=tuple(inbound) if inbound or draw(st.booleans()) else None,
        backend=draw(other),
        outbound=draw(other),
        on_error=draw(other),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_to_xml_then_parse_gives_equal_policies(doc):
    xml = doc.to_xml()
    parsed = parse_document(xml, "api")
    assert parsed == doc
    assert parse_document(parsed.to_xml(), "api") == parsed
