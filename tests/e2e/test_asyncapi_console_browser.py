"""A developer reads the Echo API's AsyncAPI messages, sends an example from the console, and
sees the echo marked as the message of the document it matches (real browser, server, backend)."""

import pytest
from django.contrib.auth.models import Group

from apis import services
from apis.asyncapi.reading import read
from apis.demo import ECHO_ASYNCAPI
from tests.support.browser import make_user, screenshot, sign_in
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_send_an_example_and_see_the_echo_matched(gateway, backend, catalog, page):
    contract = read(ECHO_ASYNCAPI.read_text(), need_backend=False).contract
    services.update_api(api=catalog.api, asyncapi_contract=contract)
    developers = Group.objects.get_or_create(name="Developers")[0]
    services.update_product(product=catalog.product, groups=[developers])
    user = make_user("asyncdev", groups=("Developers",))
    services.create_subscription(display_name="Mine", owner=user, product=catalog.product)
    serve_current_catalog(gateway)

    sign_in(page, gateway.http_url, "asyncdev", then="/apis/echo/")
    page.get_by_role("heading", name="Messages").wait_for()

    # The page shows the channel, each message with its direction, payload tree and examples.
    greeting = page.locator("[data-channel=echo] [data-message=greeting]")
    assert "You send" in greeting.inner_text() and "You receive" in greeting.inner_text()
    tree = greeting.locator(".schema-tree").first.inner_text()
    assert "type" in tree and "const" in tree and "required" in tree

    # The console offers each example as a ready message.
    console = page.locator("[data-ws-console]")
    console.get_by_label("Example from the AsyncAPI document").select_option(
        label="echo · Greeting · hello"
    )
    message = console.get_by_label("Message", exact=True).input_value()
    assert '"text": "Hello, Portico!"' in message
    console.get_by_role("button", name="Connect", exact=True).click()
    page.wait_for_selector("[data-ws-console][data-state=connected]")
    console.get_by_role("button", name="Send", exact=True).click()
    received = console.locator(".log-received", has_text="Hello, Portico!")
    received.wait_for()
    assert received.locator(".badge.match").inner_text() == "matches echo · Greeting"

    console.get_by_label("Example from the AsyncAPI document").select_option(
        label="echo · Plain text · ping"
    )
    console.get_by_role("button", name="Send", exact=True).click()
    plain = console.locator(".log-received", has_text="ping")
    plain.wait_for()
    assert plain.locator(".badge").inner_text() == "matches echo · Plain text"

    # Something the document does not describe is marked too.
    console.get_by_label("Message", exact=True).fill('{"type": "unknown"}')
    console.get_by_role("button", name="Send", exact=True).click()
    other = console.locator(".log-received", has_text="unknown")
    other.wait_for()
    assert other.locator(".badge.no-match").inner_text() == "matches no message of the contract"
    screenshot(page, "portal-asyncapi-console")
