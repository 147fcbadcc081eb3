"""Issue 29 item 2: an invalid backend URL (`wss://exa mple.com`) is refused by one check
(gateway/catalog/backend_url.py), here through the service and the Add API form (the REST API,
catalog apply, AsyncAPI import and set-backend-service: tests/api/test_backend_url_errors.py;
the CLI: tests/cli/test_backend_url_cli.py). What is valid stays valid: IDNA and IPv6 hosts,
non-ASCII and percent-encoded paths, user info where a secret named value fills it."""

import pytest
from django.core.exceptions import ValidationError

from apis import services
from apis.models import Api
from gateway.catalog.backend_url import backend_url_problem

pytestmark = pytest.mark.django_db
SPACE_IN_HOST = "The host name cannot contain a space."

REFUSED = [
    ("wss://exa mple.com", "host", SPACE_IN_HOST),
    ("wss://exa%20mple.com/", "host", "The host name cannot contain '%'."),
    ("ws://exa\u00a0mple.com/", "host", "The host name cannot contain the space character U+00A0."),
    ("ws://chat..example/", "host", "The host name is not valid: each part between dots needs"),
    ("ws://-chat.example/", "host", "The host name is not valid"),
    ("ws://" + "a" * 64 + ".example/", "host", "The host name is not valid"),
    ("ws://999.1.2.3/", "host", "The host is not a valid IPv4 address."),
    ("ws://[fe80::zz]/", "host", "The host is not a valid IPv6 address in brackets."),
    ("ws://chat.example:0/", "port", "The WebSocket URL's port must be a number from 1 to 65535."),
    ("ws://chat.example:65536/", "port", "The WebSocket URL's port must be a number from 1"),
    ("ws://chat.example:http/", "port", "The WebSocket URL's port must be a number from 1"),
    ("ws://chat.example/a b", "path", "The path and query cannot contain a space: percent-encode "
     "it as %20."),
    ("ws://chat.example/a\tb", "path", "The path and query cannot contain a tab: percent-encode"),
    ("ws://chat.example/x?q=a|b", "path", "The path and query cannot contain '|': percent-encode "
     "it as %7C."),
    ("ws://chat.example/100%", "path", "The path and query have a '%' that does not start an"),
    ("ws://chat.example/#top", "fragment", "A WebSocket URL cannot have a #fragment."),
    ("https://chat.example/", "scheme", "Enter a WebSocket URL starting with ws:// or wss://."),
    ("ws:///chat", "host", "The WebSocket URL needs a host name."),
]  # fmt: skip

ACCEPTED = [
    "wss://chat.example.com/socket",
    "ws://127.0.0.1:9001/",
    "ws://[::1]:8080/feed",
    "wss://bücher.example/räume?sprache=de",  # IDNA host; the leg percent-encodes the path
    "wss://chat.example/a%20b?q=%7C",
    "ws://chat_backend.internal:8000/ws",  # compose-style service names
    "WSS://Chat.Example/",
    "ws://chat.example:/x",  # an empty port means the default one
]


@pytest.mark.parametrize(("url", "code", "message"), REFUSED)
def test_the_shared_check_refuses_each_part_with_its_reason(url, code, message):
    problem = backend_url_problem(url)
    assert problem is not None and problem.code == code
    assert problem.message.startswith(message), problem.message
    # The reason never quotes the URL (a base-url may hold a secret's value).
    assert "exa" not in problem.reason and "chat" not in problem.reason


@pytest.mark.parametrize("url", ACCEPTED)
def test_the_shared_check_accepts_valid_urls(url):
    assert backend_url_problem(url) is None


def test_user_info_only_where_a_secret_fills_it():
    url = "wss://user:s3cret@chat.example/"
    assert backend_url_problem(url).code == "credentials"
    assert backend_url_problem(url, allow_credentials=True) is None


@pytest.mark.parametrize(("url", "code", "message"), REFUSED[:3] + REFUSED[8:9] + REFUSED[11:12])
def test_the_service_refuses_it_on_the_backend_url_field(url, code, message):
    with pytest.raises(ValidationError) as excinfo:
        services.create_api(display_name="Chat", backend_url=url, url_suffix="chat")
    assert excinfo.value.message_dict["backend_url"][0].startswith(message)
    assert not Api.objects.exists()


def test_the_add_api_form_shows_the_message_beside_the_field(publisher):
    data = {
        "display_name": "Chat Room",
        "backend_url": "wss://exa mple.com",
        "url_scheme": "wss",
        "url_suffix": "chat",
        "subscription_required": "on",
        "gateways": [services.ensure_builtin_gateway().pk],
    }
    response = publisher.post("/publisher/apis/add/", data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"backend_url": [SPACE_IN_HOST]}
    html = response.content.decode()
    assert SPACE_IN_HOST in html and 'value="wss://exa mple.com"' in html
    assert not Api.objects.exists()


def test_named_values_in_an_api_backend_url_point_to_set_backend_service():
    with pytest.raises(ValidationError) as excinfo:
        services.create_api(
            display_name="Chat", backend_url="wss://chat.example/{{team}}", url_suffix="chat"
        )
    assert "set-backend-service" in excinfo.value.message_dict["backend_url"][0]
