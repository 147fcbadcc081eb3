"""Broker credentials in the control plane: a broker URL's password (or NATS token) is a secret
named value, saved by the REST API, the Add API form and catalog apply; a literal, unknown or
plain one is refused on `backend_url`; the value reaches only the catalog of the gateway serving
the API, follows a change of the named value, and is never in an answer, export or page."""

import pytest
from django.contrib.auth.models import User

from apis import selectors, services
from apis.models import Api, NamedValue
from apis.selectors import gateway_catalog
from gateway.catalog.wire import catalog_from_json, catalog_to_json

pytestmark = pytest.mark.django_db

SECRET = "pw-9f1c2e-not-anywhere-else"


@pytest.fixture
def secret():
    services.create_named_value(name="broker-pass", value=SECRET, secret=True)
    services.create_named_value(name="shown", value="plain-text-value")
    return SECRET


def new_api(backend_url: str, **overrides) -> dict:
    return {
        "display_name": "Prices",
        "backend_url": backend_url,
        "url_suffix": "prices",
        "source": {"subscribe": "prices"},
        "gateways": ["managed"],
        **overrides,
    }


@pytest.mark.parametrize(
    "backend_url",
    [
        "redis://:{{broker-pass}}@127.0.0.1:6379/0",
        "rediss://portico:{{broker-pass}}@cache.example:6380/2",
        "nats://portico:{{broker-pass}}@127.0.0.1:4222",
        "nats://{{broker-pass}}@127.0.0.1:4222",
        "mqtt://portico:{{broker-pass}}@127.0.0.1:1883",
        "mqtts://portico:{{ broker-pass }}@broker.example",
    ],
)
def test_a_broker_password_as_a_secret_named_value_is_saved_and_sent_only_to_its_gateway(
    client_for, secret, backend_url
):
    services.ensure_builtin_gateway()
    services.create_gateway(name="elsewhere")
    response = client_for("publisher").post("/api/v1/apis/", new_api(backend_url), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["backend_url"] == backend_url  # as written: the reference
    assert secret not in response.content.decode()
    catalog = catalog_from_json(catalog_to_json(gateway_catalog("managed")))
    (entry,) = catalog.apis
    assert entry.backend_url == backend_url
    assert entry.backend_secrets == (("broker-pass", secret),)
    assert secret in catalog.secret_values  # the node's log filter redacts it
    assert secret not in repr(entry)
    other = gateway_catalog("elsewhere")
    assert other.apis == () and secret not in repr(catalog_to_json(other))


@pytest.mark.parametrize(
    ("backend_url", "words"),
    [
        ("redis://:hunter2@h:6379/0", "store it as a secret named value"),
        ("redis://user:hunter2@h:6379/0", "store it as a secret named value"),
        ("nats://portico:hunter2@h:4222", "store it as a secret named value"),
        ("mqtt://portico:hunter2@h:1883", "store it as a secret named value"),
        ("nats://hunter2@h:4222", "NATS reads a user name without a password as a token"),
        ("redis://{{broker-pass}}@h:6379/0", "Write the password after a ':'"),
        ("mqtt://{{broker-pass}}:{{broker-pass}}@h", "only the password is a named value"),
        ("redis://:{{bad name}}@h:6379/0", "needs a valid name"),
        ("redis://:{{nope}}@h:6379/0", "There is no named value {{nope}}"),
        ("nats://u:{{shown}}@h:4222", "{{shown}} is not secret"),
        ("redis://:{{broker-pass}}@h/99", "database number"),
    ],
)
def test_a_password_that_is_not_a_secret_named_value_is_400_on_backend_url(
    client_for, secret, backend_url, words
):
    response = client_for("publisher").post("/api/v1/apis/", new_api(backend_url), format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["backend_url"]
    assert words in errors[0]["message"]
    assert "hunter2" not in response.content.decode()  # the field never quotes it back
    assert Api.objects.count() == 0


def test_the_secret_is_in_no_answer_export_or_page(client_for, secret, users):
    services.ensure_builtin_gateway()
    client = client_for("publisher")
    url = "nats://portico:{{broker-pass}}@127.0.0.1:4222"
    assert client.post("/api/v1/apis/", new_api(url), format="json").status_code == 201
    api = Api.objects.get(name="prices")
    product = services.create_product(display_name="Ticks", state="published", apis=[api])
    services.create_subscription(display_name="Reader", product=product, owner=users["dev"])
    answers = {
        path: client.get(path)
        for path in (
            "/api/v1/apis/",
            "/api/v1/apis/prices/",
            "/api/v1/apis/prices/asyncapi",
            "/api/v1/catalog/",
            "/api/v1/namedValues/",
            "/api/v1/namedValues/broker-pass/",
        )
    }
    pages = client_for("admin")  # a session: publisher pages and the admin
    pages.force_login(users["admin"])
    for path in (
        "/publisher/apis/",
        "/publisher/apis/prices/",
        "/publisher/apis/prices/asyncapi/",
        "/publisher/named-values/",
        "/publisher/named-values/broker-pass/",
        f"/admin/apis/api/{api.pk}/change/",
        "/apis/prices/",
        "/apis/prices/asyncapi.json",
    ):
        answers[path] = pages.get(path)
    for path, answer in answers.items():
        assert answer.status_code == 200, (path, answer.status_code)
        assert secret not in answer.content.decode(), path
    exported = answers["/api/v1/catalog/"].json()
    assert exported["apis"][0]["backend_url"] == url  # what apply takes back
    assert "127.0.0.1" not in answers["/api/v1/apis/prices/asyncapi"].content.decode()


def test_a_named_value_a_broker_url_uses_stays_secret_cannot_be_deleted_and_a_change_is_sent(
    client_for, secret
):
    services.ensure_builtin_gateway()
    client = client_for("publisher")
    url = "redis://:{{broker-pass}}@127.0.0.1:6379/0"
    assert client.post("/api/v1/apis/", new_api(url), format="json").status_code == 201
    named = client.get("/api/v1/namedValues/broker-pass/").json()
    assert named["used_by"] == ["API 'prices' (broker URL)"]
    assert named["value"] is None
    deleted = client.delete("/api/v1/namedValues/broker-pass/")
    assert deleted.status_code == 409 and "API 'prices' (broker URL)" in deleted.content.decode()
    plain = client.patch(
        "/api/v1/namedValues/broker-pass/", {"secret": False, "value": "x"}, format="json"
    )
    assert plain.status_code == 400 and "stays secret" in plain.content.decode()
    assert NamedValue.objects.get(name="broker-pass").secret
    before = selectors.catalog_revision()
    changed = client.patch(
        "/api/v1/namedValues/broker-pass/", {"value": "pw-rotated-value"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert selectors.catalog_revision() != before  # every node reloads its catalog
    (entry,) = gateway_catalog("managed").apis
    assert entry.backend_secrets == (("broker-pass", "pw-rotated-value"),)


def test_the_add_api_form_takes_a_broker_password_reference_and_refuses_a_literal(client, secret):
    client.force_login(User.objects.create_superuser("pub", password="pw-for-tests"))
    data = {
        "display_name": "Ticks",
        "backend_url": "mqtt://portico:{{broker-pass}}@127.0.0.1:1883",
        "url_scheme": "both",
        "url_suffix": "ticks",
        "subscription_required": "on",
        "source": '{"subscribe": "ticks/#"}',
    }
    page = client.get("/publisher/apis/add/").content.decode()
    assert "secret named value" in page  # the field's help says how to give a password
    literal = {**data, "backend_url": "mqtt://portico:hunter2@127.0.0.1:1883"}
    bad = client.post("/publisher/apis/add/", literal)
    assert bad.status_code == 200
    assert "secret named value" in bad.context["form"].errors["backend_url"][0]
    assert "hunter2" not in bad.content.decode()
    assert "mqtt://portico:{{name}}@127.0.0.1:1883" in bad.content.decode()  # what to write
    assert client.post("/publisher/apis/add/", data).status_code == 302
    assert Api.objects.get(name="ticks").backend_url == data["backend_url"]


def test_catalog_export_then_apply_keeps_the_reference(secret):
    from apis.api.catalog import apply_catalog, export_catalog

    url = "nats://{{broker-pass}}@127.0.0.1:4222"
    services.create_api(
        display_name="Ticks", backend_url=url, url_suffix="ticks", source={"subscribe": "t.>"}
    )
    exported = export_catalog()
    assert secret not in repr(exported)
    Api.objects.all().delete()
    assert apply_catalog(exported)["created"]
    assert Api.objects.get(name="ticks").backend_url == url
    literal = {"apis": [{**exported["apis"][0], "backend_url": "nats://hunter2@127.0.0.1:4222"}]}
    with pytest.raises(Exception) as refused:
        apply_catalog(literal)
    assert "apis[0].backend_url" in str(refused.value.detail)
    assert "hunter2" not in str(refused.value.detail)
