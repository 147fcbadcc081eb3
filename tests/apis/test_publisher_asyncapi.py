"""Publisher pages: add an API from AsyncAPI (upload or paste), and each API's AsyncAPI tab."""

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from apis import services
from apis.models import Api
from tests.apis.asyncapi_documents import text

pytestmark = pytest.mark.django_db
IMPORT = "/publisher/apis/import/"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text(name).encode(), content_type="application/yaml")


def test_the_add_page_and_the_list_offer_asyncapi(publisher):
    assert b'href="/publisher/apis/import/"' in publisher.get("/publisher/apis/add/").content
    assert b'href="/publisher/apis/import/"' in publisher.get("/publisher/apis/").content
    page = publisher.get(IMPORT)
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    assert b'name="document_file"' in page.content and b'name="document_text"' in page.content


def test_upload_with_several_servers_asks_which_then_creates(publisher):
    data = {"document_file": upload("kraken-2.6.yaml"), "url_suffix": "kraken"}
    response = publisher.post(IMPORT, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["server"] == ["The document lists several ws/wss servers: choose one."]
    # the choice is offered as a list of the document's ws/wss servers
    assert b'<option value="beta">beta: wss://beta-ws.kraken.com:443</option>' in response.content
    assert b'<option value="metrics"' not in response.content  # the kafka server is no choice

    data = {"document_file": upload("kraken-2.6.yaml"), "url_suffix": "kraken", "server": "beta"}
    response = publisher.post(IMPORT, data)
    assert response.status_code == 302
    assert response["Location"] == "/publisher/apis/kraken-websockets-api/asyncapi/"
    api = Api.objects.get(name="kraken-websockets-api")
    assert api.backend_url == "wss://beta-ws.kraken.com:443"
    assert [g.name for g in api.gateways.all()] == ["managed"]

    tab = publisher.get(response["Location"])
    assert tab.status_code == 200
    body = tab.content.decode()
    for expected in ("Channel <code>/</code>", "You send", "You receive", "subscriptionStatus"):
        assert expected in body
    assert 'href="/api/v1/apis/kraken-websockets-api/asyncapi?format=yaml"' in body


def test_paste_a_document_and_broken_ones_show_their_paths(publisher):
    response = publisher.post(
        IMPORT, {"document_text": "asyncapi: 3.0.0\ninfo:\n  version: '1'\n", "url_suffix": "x"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["$.info: 'title' is a required property"]
    assert b"$.info: &#x27;title&#x27; is a required property" in response.content
    assert publisher.post(IMPORT, {"url_suffix": "x"}).context["form"].non_field_errors() == [
        "Upload an AsyncAPI file or paste the document."
    ]
    response = publisher.post(
        IMPORT, {"document_text": text("market-data-3.0.yaml"), "url_suffix": "market"}
    )
    assert response.status_code == 302
    assert Api.objects.get(name="market-data").backend_url == "wss://feed.example.com/marketdata"


def test_adding_never_overwrites_an_existing_api(publisher):
    services.create_api(display_name="Market Data", backend_url="ws://m.example/", url_suffix="m")
    response = publisher.post(
        IMPORT, {"document_text": text("market-data-3.0.yaml"), "url_suffix": "market"}
    )
    assert "already exists" in response.context["form"].errors["name"][0]
    assert Api.objects.get(name="market-data").backend_url == "ws://m.example/"


def test_the_asyncapi_tab_updates_an_api_keeping_its_backend_when_asked(publisher):
    api = services.create_api(
        display_name="Feed", backend_url="ws://feed.internal:9000/", url_suffix="feed"
    )
    tab = f"/publisher/apis/{api.name}/asyncapi/"
    page = publisher.get(tab)
    assert page.status_code == 200
    assert b"no channels or messages described yet" in page.content
    assert b'aria-current="page">AsyncAPI<' in page.content
    response = publisher.post(
        tab,
        {"document_text": text("market-data-3.0.yaml"), "backend_url": "ws://feed.internal:9000/"},
    )
    assert response.status_code == 302, response.context["form"].errors
    api.refresh_from_db()
    assert api.display_name == "Market Data" and api.url_suffix == "feed"
    assert api.backend_url == "ws://feed.internal:9000/"
    assert api.asyncapi_contract["channels"][0]["name"] == "feed"
    body = publisher.get(tab).content.decode()
    assert "Price update" in body and "BTCUSD" in body  # message title, enum in the tree


def test_the_tab_takes_the_apis_own_download_and_keeps_its_backend(publisher):
    api = services.create_api(
        display_name="Feed", backend_url="ws://feed.internal:9000/", url_suffix="feed"
    )
    tab = f"/publisher/apis/{api.name}/asyncapi/"
    own = publisher.get(f"/api/v1/apis/{api.name}/asyncapi?format=yaml").content.decode()
    edited = own.replace("title: Feed", "title: Feed v2")
    response = publisher.post(tab, {"document_text": edited})
    assert response.status_code == 302, response.context["form"].errors
    api.refresh_from_db()
    assert (api.display_name, api.backend_url) == ("Feed v2", "ws://feed.internal:9000/")
    response = publisher.post(tab, {"document_text": edited, "server": "wss"})
    assert response.context["form"].errors["server"]  # the gateway is no backend to choose
    # adding a new API from it needs a backend URL: its servers are the gateway
    response = publisher.post(IMPORT, {"document_text": edited, "url_suffix": "copy", "name": "c"})
    [error] = response.context["form"].errors["backend_url"]
    assert error.startswith("The document's servers are the Portico gateway")
    assert Api.objects.count() == 1


def test_the_admin_change_page_lists_the_messages_read_only(admin_client):
    from django.urls import reverse

    from apis.asyncapi.reading import read

    contract = read(text("market-data-3.0.yaml"), need_backend=False).contract
    api = services.create_api(
        display_name="Feed",
        backend_url="ws://f.example/",
        url_suffix="f",
        asyncapi_contract=contract,
    )
    response = admin_client.get(reverse("admin:apis_api_change", args=[api.pk]))
    body = response.content.decode()
    assert "<li>feed · subscribe (client: send)</li>" in body
    assert "<li>feed · update (client: receive)</li>" in body
    assert "asyncapi_contract" not in response.context["adminform"].form.fields


def test_an_api_added_by_the_form_exports_a_valid_document_and_its_console_has_examples(
    publisher,
):
    from apis.asyncapi import schema_check

    form = {
        "display_name": "Hand Made",
        "backend_url": "wss://hand.example/socket",
        "url_scheme": "both",
        "url_suffix": "hand",
        "subscription_required": "on",
        "gateways": [services.ensure_builtin_gateway().pk],
    }
    assert publisher.post("/publisher/apis/add/", form).status_code == 302
    tab = publisher.get("/publisher/apis/hand-made/asyncapi/").content.decode()
    download = tab.split('href="')[1:]
    yaml_url = next(u.split('"')[0] for u in download if "asyncapi?format=yaml" in u)
    document = yaml.safe_load(publisher.get(yaml_url).content)
    assert schema_check.check(document) == "3.0.0"
    assert document["info"]["title"] == "Hand Made" and "channels" not in document
    assert (
        "Example from the AsyncAPI document"
        not in publisher.get("/publisher/apis/hand-made/test/").content.decode()
    )

    publisher.post(
        "/publisher/apis/hand-made/asyncapi/",
        {"document_text": text("market-data-3.0.yaml"), "backend_url": "wss://hand.example/"},
    )
    console = publisher.get("/publisher/apis/hand-made/test/").content.decode()
    assert "Example from the AsyncAPI document" in console
    assert "feed · Subscribe · btc" in console
