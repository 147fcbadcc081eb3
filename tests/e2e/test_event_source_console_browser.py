"""The publisher's test console on an event-source API (Redis Streams): a sent message is
published to the stream and comes back as the envelope every subscriber gets."""

import json

import pytest
import redis
from playwright.sync_api import expect

from apis import services
from apis.permissions import PUBLISHERS_GROUP
from tests.support.brokers import SHARED_MQTT, SHARED_NATS, SHARED_REDIS, unique_name
from tests.support.browser import make_user, overlaps, sign_in
from tests.support.event_sources import JetStream
from tests.support.servers import serve_current_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_console_sends_to_the_stream_and_shows_the_events(gateway, page, width):
    stream = unique_name("console")
    services.create_api(
        display_name="Ticks", backend_url=SHARED_REDIS, url_suffix="ticks",
        source={"subscribe": stream, "publish": stream},
    )  # fmt: skip
    make_user("tessa", is_staff=True, groups=(PUBLISHERS_GROUP,))
    serve_current_catalog(gateway)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, gateway.http_url, "tessa", then="/publisher/apis/ticks/test/")
    console = page.locator("[data-ws-console]")
    console.wait_for()
    console.get_by_role("button", name="Connect", exact=True).click()
    expect(console.locator("[data-role=status]")).to_have_text("Connected", timeout=20_000)
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        entry_id = client.xadd(stream, {"price": "42"}).decode()
        console.locator(".log-received", has_text=entry_id).wait_for()
        console.get_by_label("Message").fill("from the console")
        console.get_by_role("button", name="Send", exact=True).click()
        console.locator(".log-received", has_text="from the console").wait_for()
        (last_id, fields), *_ = client.xrevrange(stream, count=1)
        # Resume from the console: disconnect, miss an entry, reconnect with last-event-id.
        console.get_by_role("button", name="Disconnect").click()
        expect(console.locator("[data-role=status]")).to_have_text("Disconnected")
        missed = client.xadd(stream, {"price": "43"}).decode()
        console.locator("[data-role=query]").fill(f"last-event-id={last_id.decode()}")
        console.get_by_role("button", name="Connect", exact=True).click()
        console.locator(".log-received", has_text=missed).wait_for()
    finally:
        client.close()
    assert fields == {b"data": b"from the console"}
    shown = console.locator(".log-received", has_text=entry_id).inner_text()
    envelope = json.loads(shown[shown.index("{") :])
    assert envelope == {"id": entry_id, "subject": stream, "data": {"price": "42"}}


@pytest.mark.parametrize("width", [390, 1280])
def test_the_add_api_form_takes_a_broker_and_shows_a_bad_source_beside_its_field(
    gateway, page, width
):
    make_user("tessa", is_staff=True, groups=(PUBLISHERS_GROUP,))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, gateway.http_url, "tessa", then="/publisher/apis/add/")
    source = page.get_by_label("Event source")
    url_field = page.get_by_label("WebSocket URL")
    source.wait_for()
    boxes = [source.bounding_box(), url_field.bounding_box()]
    assert not overlaps(*boxes), boxes
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in boxes), boxes
    page.get_by_label("Display name").fill("Ticks")
    url_field.fill("nats://127.0.0.1:4222")
    page.get_by_label("API URL suffix").fill("ticks")
    source.fill('{"subscribe": "ticks.>.oops"}')
    page.get_by_role("button", name="Create").click()
    error = page.locator("#id_source_error, .errorlist", has_text="source.subscribe").first
    error.wait_for()
    source.fill('{"subscribe": "ticks.>"}')
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(lambda url: "/add/" not in url)


@pytest.mark.parametrize("kind", ["nats", "mqtt"])
def test_the_console_round_trips_a_message_through_nats_and_mqtt(gateway, page, kind):
    """Publish and subscribe on one subject/topic: what the console sends comes back as the
    envelope every subscriber of that subject/topic gets."""
    if kind == "nats":
        stream = JetStream(SHARED_NATS)
        name, broker = f"{stream.prefix}.chat", SHARED_NATS
    else:
        stream, name, broker = None, unique_name("ev26", "/") + "/chat", SHARED_MQTT
    try:
        services.create_api(
            display_name="Chat", backend_url=broker, url_suffix="chat",
            source={"subscribe": name, "publish": name},
        )  # fmt: skip
        make_user("tessa", is_staff=True, groups=(PUBLISHERS_GROUP,))
        serve_current_catalog(gateway)
        sign_in(page, gateway.http_url, "tessa", then="/publisher/apis/chat/test/")
        console = page.locator("[data-ws-console]")
        console.wait_for()
        console.get_by_role("button", name="Connect", exact=True).click()
        expect(console.locator("[data-role=status]")).to_have_text("Connected", timeout=20_000)
        console.get_by_label("Message").fill('{"hello": "' + kind + '"}')
        console.get_by_role("button", name="Send", exact=True).click()
        shown = console.locator(".log-received", has_text=name)
        shown.wait_for()
        text = shown.inner_text()
        envelope = json.loads(text[text.index("{") :])
    finally:
        if stream is not None:
            stream.delete()
    assert envelope["subject"] == name
    assert envelope["data"] == {"hello": kind}
