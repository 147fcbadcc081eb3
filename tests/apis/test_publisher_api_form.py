"""The "Add WebSocket API" form, the Settings tab and delete: every error beside its field."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apis import services
from apis.models import Api, Subscription

pytestmark = pytest.mark.django_db
ADD = "/publisher/apis/add/"


@pytest.fixture
def product():
    return services.create_product(display_name="Starter")


def valid(**overrides) -> dict:
    data = {
        "display_name": "Chat Room",
        "name": "",
        "backend_url": "wss://chat.example.com/socket",
        "url_scheme": "wss",
        "url_suffix": "chat",
        "description": "Rooms",
        "subscription_required": "on",
        "gateways": [services.ensure_builtin_gateway().pk],
    }
    data.update(overrides)
    return data


def errors_of(response) -> dict:
    assert response.status_code == 200, "an invalid form is shown again, not redirected"
    return response.context["form"].errors


def test_add_page_preselects_the_managed_gateway_and_shows_the_preview(publisher):
    response = publisher.get(ADD)
    form = response.context["form"]
    assert [g.name for g in form.initial["gateways"]] == ["managed"]
    assert b'data-host="testserver"' in response.content
    assert b"publisher-api-form.js" in response.content


def test_valid_form_creates_the_api_with_products_and_gateways(publisher, product):
    response = publisher.post(ADD, valid(products=[product.pk]))
    api = Api.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publisher:api-settings", args=[api.name])
    assert (api.name, api.url_scheme, api.url_suffix) == ("chat-room", "wss", "chat")
    assert api.backend_url == "wss://chat.example.com/socket"
    assert api.subscription_required and api.description == "Rooms"
    assert list(api.products.all()) == [product]
    assert [g.name for g in api.gateways.all()] == ["managed"]


def test_name_is_derived_from_the_display_name_when_left_empty(publisher):
    publisher.post(ADD, valid(display_name="Stock Ticker Ümlaut", name="", url_suffix="t"))
    assert Api.objects.get().name == "stock-ticker-umlaut"


def test_an_explicit_name_is_kept(publisher):
    publisher.post(ADD, valid(name="my-chat"))
    assert Api.objects.get().name == "my-chat"


def test_required_fields_each_get_their_error_and_nothing_is_saved(publisher):
    errors = errors_of(publisher.post(ADD, {"url_scheme": "ws"}))
    assert set(errors) >= {"display_name", "backend_url", "url_suffix"}
    assert errors["display_name"] == ["This field is required."]
    assert Api.objects.count() == 0


def test_http_url_is_refused_beside_the_field_and_typed_values_stay(publisher):
    response = publisher.post(ADD, valid(backend_url="http://chat.example.com/socket"))
    errors = errors_of(response)
    assert errors["backend_url"] == ["Enter a WebSocket URL starting with ws:// or wss://."]
    assert list(errors) == ["backend_url"]
    html = response.content.decode()
    assert 'value="http://chat.example.com/socket"' in html and 'value="Chat Room"' in html
    assert 'aria-invalid="true"' in html
    assert Api.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url_scheme", "http", "Select a valid choice."),
        ("url_suffix", "admin/chat", "'admin' is reserved by Portico; choose another suffix."),
        ("url_suffix", "_portico/x", "'_portico' is reserved by Portico; choose another suffix."),
        ("url_suffix", "/chat", "Use path segments of letters"),
        ("name", "Not A Slug!", "Enter a valid “slug”"),
        ("name", "add", "'add' is reserved by the publisher pages"),
        ("backend_url", "ws://user:pw@chat.example.com/", "Put credentials in a set-header"),
        ("backend_url", "ws:///nohost", "The WebSocket URL needs a host name."),
    ],
)
def test_bad_values_get_their_field_message(publisher, field, value, message):
    errors = errors_of(publisher.post(ADD, valid(**{field: value})))
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert Api.objects.count() == 0


def test_duplicate_name_and_suffix_are_refused(publisher):
    services.create_api(display_name="Chat Room", backend_url="ws://a.example/", url_suffix="chat")
    errors = errors_of(publisher.post(ADD, valid()))  # derived name chat-room is taken too
    assert errors["name"] == ["An API named 'chat-room' already exists; choose another name."]
    assert errors["url_suffix"] == ["The suffix 'chat' is already used by another API."]
    errors = errors_of(publisher.post(ADD, valid(name="other", url_suffix="CHAT")))
    assert list(errors) == ["url_suffix"]
    assert Api.objects.count() == 1


def test_a_refusal_from_the_service_lands_on_its_field(publisher):
    """A display name with nothing to slugify: the display name is blamed, saying why."""
    errors = errors_of(publisher.post(ADD, valid(display_name="!!!", name="")))
    assert errors == {
        "display_name": [
            "“!!!” has no letters or digits to make a name from: add some, or enter a name "
            "yourself."
        ]
    }
    assert Api.objects.count() == 0


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("sub key", "The suffix cannot contain a space: "),
        ("chat?x", "The suffix cannot contain '?': "),
        ("café", "The suffix cannot contain 'é': "),
        ("a//b", "Use path segments of letters"),
    ],
)
def test_the_suffix_error_names_the_bad_character(publisher, suffix, message):
    errors = errors_of(publisher.post(ADD, valid(url_suffix=suffix)))
    assert errors["url_suffix"][0].startswith(message)


def test_a_query_parameter_name_with_a_space_is_refused_beside_its_field(publisher):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    url = reverse("publisher:api-settings", args=["echo"])
    data = {
        **valid(display_name="Echo", name="echo", url_suffix="e"),
        "subscription_key_header": "X-Key",
        "subscription_key_query": "sub key",
        "max_message_bytes": 100,
        "idle_timeout_seconds": 10,
        "max_duration_seconds": 10,
    }
    errors = errors_of(publisher.post(url, data))
    assert errors == {
        "subscription_key_query": [
            "A query parameter name cannot contain a space: use letters, digits, '.', '_', '~' "
            "or '-'."
        ]
    }
    api.refresh_from_db()
    assert api.subscription_key_query == "subscription-key"
    with pytest.raises(ValidationError) as refused:
        services.update_api(api=api, subscription_key_query="sub key")  # the REST API's path
    assert list(refused.value.message_dict) == ["subscription_key_query"]


def test_the_settings_tab_is_grouped_with_help_texts_and_warns_about_dead_configuration(
    publisher,
):
    services.create_api(
        display_name="Echo", backend_url="ws://a.example/", url_suffix="e", gateways=[]
    )
    html = publisher.get(reverse("publisher:api-settings", args=["echo"])).content.decode()
    for legend in ("Connection", "Subscription", "Limits"):
        assert f"<legend>{legend}</legend>" in html
    assert "Close (1001) after this long without a message either way." in html
    assert "On no gateway: no client can connect to this API." in html
    assert "In no product:" in html


def test_settings_tab_edits_the_api(publisher, product):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    url = reverse("publisher:api-settings", args=["echo"])
    page = publisher.get(url)
    assert page.context["form"].initial["url_suffix"] == "e"
    assert "ws://testserver/e" in page.context["gateway_urls"]
    data = valid(
        display_name="Echo",
        name="echo",
        url_suffix="echo2",
        url_scheme="ws",
        products=[product.pk],
        subscription_key_header="X-Key",
        subscription_key_query="key",
        max_message_bytes=1024,
        idle_timeout_seconds=60,
        max_duration_seconds=120,
    )
    assert publisher.post(url, data).status_code == 302
    api.refresh_from_db()
    assert (api.url_suffix, api.url_scheme, api.subscription_key_query) == ("echo2", "ws", "key")
    assert api.max_message_bytes == 1024 and list(api.products.all()) == [product]


def test_settings_tab_refuses_a_bad_header_and_keeps_the_saved_api(publisher):
    api = services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="e")
    url = reverse("publisher:api-settings", args=["echo"])
    data = valid(
        display_name="Renamed",
        name="echo",
        url_suffix="e",
        subscription_key_header="Bad Header",
        subscription_key_query="key",
        max_message_bytes=1024,
        idle_timeout_seconds=60,
        max_duration_seconds=120,
    )
    response = publisher.post(url, data)
    assert errors_of(response) == {"subscription_key_header": ["Enter a valid HTTP header name."]}
    api.refresh_from_db()
    assert api.display_name == "Echo"
    assert "Echo" in response.context["api"].display_name


def test_delete_confirmation_names_what_goes_with_the_api(publisher, product):
    api = services.create_api(
        display_name="Echo", backend_url="ws://a.example/", url_suffix="e", products=[product]
    )
    services.create_subscription(display_name="Echo only", scope="api", api=api)
    url = reverse("publisher:api-delete", args=["echo"])
    html = publisher.get(url).content.decode()
    assert "Echo only" in html and "1 API-scoped subscription" in html
    assert "<strong>Starter</strong>" in html and "<strong>managed</strong>" in html
    assert Api.objects.count() == 1  # GET never deletes
    response = publisher.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("publisher:api-list")
    assert not Api.objects.exists() and not Subscription.objects.exists()
    product.refresh_from_db()
    assert product.apis.count() == 0


def test_list_searches_and_shows_status(publisher, product):
    services.create_api(display_name="Echo", backend_url="ws://a.example/", url_suffix="echo")
    services.create_api(
        display_name="Chat", backend_url="ws://b.example/", url_suffix="c", gateways=[]
    )
    rows = publisher.get("/publisher/apis/").context["rows"]
    assert {r["api"].name: r["status"][0] for r in rows} == {
        "echo": "Not published",
        "chat": "Not on a gateway",
    }
    rows = publisher.get("/publisher/apis/", {"q": "ech"}).context["rows"]
    assert [r["api"].name for r in rows] == ["echo"]
    product.state = "published"
    services.update_product(
        product=product, state="published", apis=Api.objects.filter(name="echo")
    )
    rows = publisher.get("/publisher/apis/", {"q": "echo"}).context["rows"]
    assert rows[0]["status"][0] == "Live"
