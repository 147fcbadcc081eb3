"""Catalog validation: URLs, suffixes, names and keys are checked before anything is stored."""

import pytest
from django.core.exceptions import ValidationError

from apis import services
from apis.models import Api, Gateway, Subscription

pytestmark = pytest.mark.django_db


def make_api(**overrides) -> Api:
    values = {"display_name": "Chat", "backend_url": "wss://chat.example/ws", "url_suffix": "chat"}
    values.update(overrides)
    return services.create_api(**values)


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


def test_builtin_managed_gateway_exists_after_migrations():
    builtin = Gateway.objects.get(name="managed")
    assert builtin.kind == Gateway.Kind.MANAGED
    assert builtin.primary_token_hash != builtin.secondary_token_hash


def test_name_is_derived_from_display_name():
    api = make_api(display_name="Chat Room API")
    assert api.name == "chat-room-api"
    assert list(api.gateways.values_list("name", flat=True)) == ["managed"]


@pytest.mark.parametrize(
    ("backend_url", "words"),
    [
        ("http://chat.example/ws", "ws:// or wss://"),
        ("https://chat.example/ws", "ws:// or wss://"),
        ("ftp://chat.example", "ws:// or wss://"),
        ("ws:///no-host", "host"),
        ("wss://user:pw@chat.example/", "credentials"),
        ("ws://chat.example:99999/", "port"),
    ],
)
def test_backend_url_must_be_ws_or_wss_with_a_host(backend_url, words):
    with pytest.raises(ValidationError) as excinfo:
        make_api(backend_url=backend_url)
    assert error_fields(excinfo) == {"backend_url"}
    assert words in " ".join(excinfo.value.message_dict["backend_url"])
    assert not Api.objects.exists()


@pytest.mark.parametrize("suffix", ["admin", "api/v1", "_portico", "static", "metrics", "Admin"])
def test_reserved_suffixes_are_refused(suffix):
    with pytest.raises(ValidationError) as excinfo:
        make_api(url_suffix=suffix)
    assert "reserved" in excinfo.value.message_dict["url_suffix"][0]


@pytest.mark.parametrize("suffix", ["", "/chat", "chat/", "a//b", "../x", "ch at", "chat?x=1"])
def test_suffix_must_be_clean_path_segments(suffix):
    with pytest.raises(ValidationError) as excinfo:
        make_api(url_suffix=suffix)
    assert "url_suffix" in error_fields(excinfo)


def test_multi_segment_suffix_is_allowed():
    assert make_api(url_suffix="chat/v2").url_suffix == "chat/v2"


def test_duplicate_suffix_is_refused():
    make_api()
    with pytest.raises(ValidationError) as excinfo:
        make_api(display_name="Other", url_suffix="chat")
    assert "url_suffix" in error_fields(excinfo)


def test_duplicate_name_is_refused():
    make_api()
    with pytest.raises(ValidationError) as excinfo:
        make_api(url_suffix="chat2")
    assert "name" in error_fields(excinfo)


def test_duplicate_product_name_is_refused():
    services.create_product(display_name="Starter")
    with pytest.raises(ValidationError) as excinfo:
        services.create_product(display_name="Starter")
    assert "name" in error_fields(excinfo)


def test_keys_are_random_url_safe_and_distinct():
    product = services.create_product(display_name="P")
    a = services.create_subscription(display_name="a", product=product)
    b = services.create_subscription(display_name="b", product=product)
    keys = {a.primary_key, a.secondary_key, b.primary_key, b.secondary_key}
    assert len(keys) == 4
    assert all(len(k) >= 43 and k.replace("-", "").replace("_", "").isalnum() for k in keys)


def test_a_key_cannot_reuse_another_subscriptions_key():
    product = services.create_product(display_name="P")
    a = services.create_subscription(display_name="a", product=product)
    b = services.create_subscription(display_name="b", product=product)
    b.primary_key = a.secondary_key
    with pytest.raises(ValidationError) as excinfo:
        b.full_clean()
    assert "primary_key" in error_fields(excinfo)


def test_primary_and_secondary_key_must_differ():
    product = services.create_product(display_name="P")
    a = services.create_subscription(display_name="a", product=product)
    a.secondary_key = a.primary_key
    with pytest.raises(ValidationError) as excinfo:
        a.full_clean()
    assert "secondary_key" in error_fields(excinfo)


def test_scope_needs_its_target():
    with pytest.raises(ValidationError) as excinfo:
        services.create_subscription(display_name="x", scope=Subscription.Scope.PRODUCT)
    assert "product" in error_fields(excinfo)
    api = make_api()
    with pytest.raises(ValidationError):
        services.create_subscription(display_name="x", scope=Subscription.Scope.ALL_APIS, api=api)


def test_catalog_writes_bump_the_revision():
    from apis.selectors import catalog_revision

    before = catalog_revision()
    api = make_api()
    after_create = catalog_revision()
    services.update_api(api=api, description="changed")
    assert before != after_create != catalog_revision()


POLICY_WITH_CHECK = (
    '<policies><inbound><base/><check-header name="X-Client" failed-check-httpcode="401" '
    'failed-check-error-message="no"><value>web</value></check-header></inbound></policies>'
)


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        ("<policies><inbound>", "line 1"),
        ("<policies><inbound><mystery/></inbound></policies>", "mystery"),
        ("<policies><inbound><cors/></inbound></policies>", "cors"),
        (
            '<policies><inbound><rate-limit calls="x" renewal-period="60"/></inbound></policies>',
            "calls",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;">]><policies><inbound>&lol2;</inbound></policies>',
            "",
        ),
        (
            '<policies><inbound><set-header name="X" exists-action="override">'
            '<value>@(System.IO.File.ReadAllText("x"))</value></set-header></inbound></policies>',
            "expression",
        ),
    ],
)
def test_invalid_policy_documents_are_never_stored(xml, words):
    api = make_api()
    with pytest.raises(ValidationError) as excinfo:
        services.update_api(api=api, policy_xml=xml)
    message = excinfo.value.message_dict["policy_xml"][0]
    assert words in message
    api.refresh_from_db()
    assert api.policy_xml == ""


def test_base_is_refused_in_the_global_scope():
    with pytest.raises(ValidationError) as excinfo:
        services.set_global_policy(policy_xml="<policies><inbound><base/></inbound></policies>")
    assert "global" in excinfo.value.message_dict["policy_xml"][0]


def test_effective_policy_fills_base_from_products_then_all_apis():
    from apis.selectors import effective_policy

    services.set_global_policy(
        policy_xml='<policies><inbound><ip-filter action="forbid"><address>10.0.0.1</address>'
        "</ip-filter></inbound></policies>"
    )
    api = make_api(policy_xml="<policies><inbound><base/></inbound></policies>")
    product = services.create_product(display_name="P", apis=[api], policy_xml=POLICY_WITH_CHECK)
    xml = effective_policy(api, product).to_xml()  # what the product's subscribers get
    assert xml.index("ip-filter") < xml.index("check-header")
    assert "<base" not in xml
    xml = effective_policy(api).to_xml()  # all-APIs and API-scoped subscriptions
    assert "ip-filter" in xml and "check-header" not in xml


def test_admin_shows_the_effective_policy(admin_client):
    from django.urls import reverse

    api = make_api(policy_xml=POLICY_WITH_CHECK)
    response = admin_client.get(reverse("admin:apis_api_change", args=[api.pk]))
    body = response.content.decode()
    assert "effective policy (with inherited scopes)" in body.lower()
    assert "check-header" in body
