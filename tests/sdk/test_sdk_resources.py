"""The SDK against the real server: CRUD as typed models, every page of a list, one error type."""

from datetime import datetime

import httpx
import pytest

from apis import services
from portico_client import Api, NamedValue, PorticoClient, PorticoError, Subscription

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_read_update_and_delete_an_api_as_typed_models(sdk, backend):
    created = sdk.apis.create(
        display_name="Chat", backend_url=f"{backend.url}/chat", url_suffix="chat"
    )
    assert isinstance(created, Api) and created.name == "chat"
    assert isinstance(created.created_at, datetime) and created.gateways == ["managed"]

    read = sdk.apis.get("chat")
    assert read.etag and read.backend_url == f"{backend.url}/chat"
    updated = sdk.apis.update("chat", if_match=read.etag, description="Rooms")
    assert updated.description == "Rooms" and updated.raw["description"] == "Rooms"
    with pytest.raises(PorticoError) as stale:  # the version read before the update
        sdk.apis.update("chat", if_match=read.etag, description="Lost update")
    assert stale.value.status == 412

    assert [api.name for api in sdk.apis.list(url_suffix="chat")] == ["chat"]
    sdk.apis.delete("chat")
    with pytest.raises(PorticoError) as gone:
        sdk.apis.get("chat")
    assert gone.value.status == 404 and gone.value.problem["status"] == 404


def test_subscribe_read_the_keys_and_walk_its_lifecycle(sdk, catalog):
    created = sdk.subscriptions.create(
        display_name="Bot", scope="product", product=catalog.product.name
    )
    assert isinstance(created, Subscription) and created.state == "active"
    assert created.primary_key != catalog.subscription.primary_key  # masked in the answer
    secrets = sdk.subscriptions.list_secrets(created.id)
    assert len(secrets.primary_key) >= 32 and secrets.primary_key != secrets.secondary_key
    assert sdk.subscriptions.suspend(created.id, "paused").state == "suspended"
    assert sdk.subscriptions.reactivate(created.id).state == "active"
    assert {s.id for s in sdk.subscriptions.list(product=catalog.product.name)} == {
        catalog.subscription.pk,
        created.id,
    }


def test_list_iterates_over_every_page_fetching_one_page_at_a_time(gateway, admin_token):
    for n in range(7):
        services.create_named_value(name=f"value-{n}", value=str(n))
    asked: list[str] = []
    http = httpx.Client(
        base_url=gateway.http_url,
        headers={"Authorization": f"Bearer {admin_token}"},
        event_hooks={"request": [lambda request: asked.append(str(request.url))]},
    )
    with PorticoClient(gateway.http_url, admin_token, http=http) as client:
        values = client.named_values.list(page_size=3, ordering="name")
        first = next(values)
        assert len(asked) == 1  # lazily: the next page only when it is reached
        rest = list(values)
    assert all(isinstance(v, NamedValue) for v in [first, *rest])
    assert [v.name for v in [first, *rest]] == [f"value-{n}" for n in range(7)]
    assert len(asked) == 3 and "limit=3" in asked[0] and "offset=6" in asked[2]


def test_a_bad_request_raises_one_error_type_with_the_problem_json(sdk):
    with pytest.raises(PorticoError) as refused:
        sdk.apis.create(display_name="X", backend_url="http://x", url_suffix="x")
    error = refused.value
    assert error.status == 400
    assert error.problem["status"] == 400
    assert [e["field"] for e in error.errors] == ["backend_url"]
    assert str(error).startswith("400 backend_url: ")


def test_a_wrong_token_and_an_unreachable_server_raise_the_same_type(gateway):
    with PorticoClient(gateway.http_url, "pat_wrong") as client, pytest.raises(PorticoError) as e:
        next(client.apis.list())
    assert e.value.status == 401 and e.value.errors
    with PorticoClient("http://127.0.0.1:9", "t") as client, pytest.raises(PorticoError) as e:
        client.gateways.get("managed")
    assert e.value.status is None and str(e.value).startswith("cannot reach http://127.0.0.1:9")


def test_an_unknown_filter_is_refused_before_any_request(sdk):
    with pytest.raises(TypeError, match="apis.list\\(\\) takes no filter colour"):
        sdk.apis.list(colour="blue")
