"""A publisher adds a WebSocket API from an AsyncAPI file in a real browser: the document lists
several servers, the page asks which one, and the API's AsyncAPI tab shows its messages."""

import pytest
from playwright.sync_api import expect

from apis.models import Api
from apis.permissions import PUBLISHERS_GROUP
from tests.apis.asyncapi_documents import HERE
from tests.support.browser import make_user, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_publisher_imports_an_asyncapi_file_and_picks_the_server(gateway, page):
    make_user("asyncpub", is_staff=True, groups=(PUBLISHERS_GROUP,))
    sign_in(page, gateway.http_url, "asyncpub", then="/publisher/apis/")
    expect(page.get_by_role("heading", name="APIs", exact=True)).to_be_visible()
    page.get_by_role("link", name="Add WebSocket API").first.click()
    page.get_by_role("link", name="Add the API from AsyncAPI").click()
    expect(page.get_by_role("heading", name="Add WebSocket API from AsyncAPI")).to_be_visible()

    page.get_by_label("AsyncAPI file").set_input_files(str(HERE / "kraken-2.6.yaml"))
    page.get_by_label("API URL suffix").fill("kraken")
    page.get_by_role("button", name="Import").click()
    # Several wss servers: the page asks, keeping the document so no new upload is needed.
    expect(page.locator(".field-server")).to_contain_text("choose one")
    expect(page.get_by_label("…or paste the document")).to_have_value(
        (HERE / "kraken-2.6.yaml").read_text()
    )
    screenshot(page, "publisher-asyncapi-choose-server")
    page.get_by_label("Backend server").select_option("public")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Channels and messages")).to_be_visible()
    expect(page.locator("[data-message=subscribe]")).to_contain_text("You send")
    expect(page.locator("[data-message=heartbeat]")).to_contain_text("You receive")
    api = Api.objects.get(name="kraken-websockets-api")
    assert api.backend_url == "wss://ws.kraken.com" and api.url_suffix == "kraken"
    screenshot(page, "publisher-asyncapi-tab")
