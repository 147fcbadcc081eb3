"""A secret named value used where a policy cannot take it: the error names the named value and
quotes no part of its value, in any escaping, through the REST API, the publisher pages and the
log (issue 23 item 7)."""

import json
import logging
from html import unescape

import pytest
from django.urls import reverse

from apis import services
from apis.models import NamedValue

pytestmark = pytest.mark.django_db

# Not the brief's "s3cr3t-Value-9f2": its "alue" is in the very words that must be said
# ("the value of named value"), so no message could pass a 4-character check with it.
SECRET = "s3cr3t-Qz9F2-xK7w"
# Quotes, a backslash, a line break and a space at both ends: a Python repr, XML escaping and
# strip() all change how it is written, and the old redaction looked for it as written.
ODD = " q'Z\"9\\Xk\nF-7w "
# Ends a condition's string literal: what follows is read as a name the error would quote.
PART = 'Qz9F2"||xK7wQzPm=="'


def parts(secret: str) -> set[str]:
    """Every 4-character piece of the secret, as written and as a Python or JSON string."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    return {form[i : i + 4] for form in forms for i in range(len(form) - 3)}


def assert_no_part(text: str) -> None:
    """Nor in the text once HTML or XML escaping is undone."""
    for secret in (SECRET, ODD, PART):
        found = sorted(p for p in parts(secret) for t in (text, unescape(text)) if p in t)
        assert not found, (found, text)


def doc(inbound: str) -> str:
    return f"<policies>\n  <inbound>\n    {inbound}\n  </inbound>\n</policies>"


IP = '<ip-filter action="allow"><address>{{%s}}</address></ip-filter>'
CASES = [
    (IP % "sec", "<address>: the value of named value sec is not an IP address"),
    (IP % "odd", "<address>: the value of named value odd is not an IP address"),
    (
        '<ip-filter action="allow"><address-range from="{{odd}}" to="10.0.0.9" /></ip-filter>',
        '<address-range> attribute "from": the value of named value odd is not an IP address',
    ),
    (
        '<choose><when condition="@(context.Api.Name == {{sec}})"><base /></when></choose>',
        '<when> attribute "condition": the value of named value sec does not parse as part of '
        'the condition at column 23 (text belongs in a string literal: "{{sec}}")',
    ),
    (
        '<choose><when condition="@(context.Api.Name == &quot;{{odd}}&quot;)"><base /></when>'
        "</choose>",
        '<when> attribute "condition": the value of named value odd does not parse as part of',
    ),
    (
        '<choose><when condition="@(context.Api.Name == &quot;{{part}}&quot;)"><base /></when>'
        "</choose>",
        '<when> attribute "condition": the value of named value part does not parse as part of '
        "the condition at column 24",
    ),
    (
        '<set-backend-service base-url="{{sec}}" />',
        '<set-backend-service> attribute "base-url": the value of named value sec must be a '
        "ws:// or wss:// URL with a host",
    ),
    (
        '<rate-limit calls="{{sec}}" renewal-period="60" />',
        '<rate-limit> attribute "calls": the value of named value sec must be a positive integer',
    ),
    (
        '<set-header name="X-A" exists-action="override"><value>@{{sec}}</value></set-header>',
        "<value>: the value of named value sec is not a supported expression; supported: ",
    ),
    (
        '<set-header name="{{odd}}" exists-action="override"><value>a</value></set-header>',
        '<set-header> attribute "name": the value of named value odd must be an HTTP header name',
    ),
]


@pytest.fixture
def secrets(db):
    services.create_named_value(name="sec", value=SECRET, secret=True)
    services.create_named_value(name="odd", value=ODD, secret=True)
    services.create_named_value(name="part", value=PART, secret=True)


@pytest.mark.parametrize(("inbound", "expected"), CASES)
def test_rest_api_names_the_secret_and_quotes_none_of_it(
    client_for, objects, secrets, inbound, expected, caplog
):
    caplog.set_level(logging.DEBUG)
    client = client_for("publisher")
    response = client.put("/api/v1/apis/chat/policy/", {"policy_xml": doc(inbound)}, "json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["errors"][0]
    assert error["field"] == "policy_xml"
    assert error["message"].startswith(f"line 3: {expected}"), error["message"]
    assert_no_part(response.content.decode())
    assert_no_part(caplog.text)


def test_publisher_pages_name_the_secret_and_quote_none_of_it(client, objects, users, secrets):
    client.force_login(users["admin"])
    url = reverse("publisher:api-policy", args=["chat"])
    for inbound, expected in CASES[:2] + CASES[3:4]:
        response = client.post(url, {"policy_xml": doc(inbound)})
        assert response.status_code == 200
        assert response.context["form"].errors["policy_xml"][0].startswith(f"line 3: {expected}")
        assert_no_part(response.content.decode())
    fragment = f"<fragment>\n{IP % 'odd'}\n</fragment>"
    response = client.post(reverse("publisher:fragment-create"), {"name": "f", "xml": fragment})
    assert response.status_code == 200
    message = response.context["form"].errors["xml"][0]
    assert message == "line 2: <address>: the value of named value odd is not an IP address"
    assert_no_part(response.content.decode())


def test_a_secret_changed_to_a_bad_value_is_refused_without_quoting_it(client_for, objects):
    client = client_for("publisher")
    body = {"name": "ip", "value": "10.0.0.1", "secret": True}
    assert client.post("/api/v1/namedValues/", body, format="json").status_code == 201
    client.put("/api/v1/policies/global", {"policy_xml": doc(IP % "ip")}, format="json")
    response = client.patch("/api/v1/namedValues/ip/", {"value": ODD}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["message"] == (
        "All APIs would no longer be valid: "
        "line 3: <address>: the value of named value ip is not an IP address"
    )
    assert_no_part(response.content.decode())
    assert NamedValue.objects.get(name="ip").resolved_value() == "10.0.0.1"


def test_an_error_beside_a_secret_keeps_its_own_words(client_for, objects, secrets):
    """A condition holding a secret in a string literal, with a typo elsewhere: the message
    quotes the typo (not the secret), so it keeps the parser's words; its column counts the
    secret as `{{sec}}`, as written, so that it does not tell the value's length."""
    condition = "@(context.Api.Name == &quot;{{sec}}&quot; || contxt.Api.Name == &quot;a&quot;)"
    inbound = f'<choose><when condition="{condition}"><base /></when></choose>'
    client = client_for("publisher")
    response = client.put("/api/v1/apis/chat/policy/", {"policy_xml": doc(inbound)}, "json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        'line 3: <when> attribute "condition": column 36: unknown name "contxt"; '
        'expressions start with context, found "contxt"'
    )
