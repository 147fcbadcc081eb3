"""Live pages: the API's Live tab, a subscription's live page, the developer's usage page, and
closing a connection from them (a confirmation page first, then an audited close request)."""

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apis import services
from apis.models import Product
from apis.telemetry import live_services
from apis.telemetry.models import LiveConnection, LiveWorker

pytestmark = pytest.mark.django_db


@pytest.fixture
def live():
    dev = User.objects.create_user("dev", password="x")
    other = User.objects.create_user("other", password="x")
    api = services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="echo"
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    mine = services.create_subscription(display_name="Mine", owner=dev, product=product)
    theirs = services.create_subscription(display_name="Theirs", owner=other, product=product)
    opened = timezone.now().isoformat()
    entries = [
        {
            "id": f"{n:032x}",
            "api_id": api.pk,
            "api_name": api.name,
            "product_id": product.pk,
            "subscription_id": sub.pk,
            "client_ip": "203.0.113.7",
            "user_agent": "agent/1",
            "opened_at": opened,
            "messages_up": 3,
            "bytes_up": 30,
        }
        for n, sub in ((1, mine), (2, theirs))
    ]
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": "node-a", "worker": "7", "full": True, "opened": entries},
    )
    return {"dev": dev, "api": api, "mine": mine, "theirs": theirs}


def test_the_api_live_tab_lists_every_open_connection_without_keys(publisher, live):
    page = publisher.get("/publisher/apis/echo/live/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-connection="') == 2
    assert "node-a" in text and "203.0.113.7" in text and "agent/1" in text
    assert 'href="/publisher/apis/echo/live/"' in text  # the tab itself
    assert live["mine"].primary_key not in text and live["theirs"].primary_key not in text


def test_a_subscriptions_live_page_lists_only_its_connections(publisher, live):
    text = publisher.get(f"/publisher/subscriptions/{live['mine'].pk}/live/").content.decode()
    assert f'data-connection="{1:032x}"' in text and f'data-connection="{2:032x}"' not in text
    listing = publisher.get("/publisher/subscriptions/").content.decode()
    assert f"/publisher/subscriptions/{live['mine'].pk}/live/" in listing


def test_closing_asks_first_then_requests_the_close_and_audits_it(publisher, live, caplog):
    caplog.set_level(logging.INFO, logger="portico.audit")
    url = f"/publisher/connections/{2:032x}/close/?next=/publisher/apis/echo/live/"
    confirm = publisher.get(url)
    assert confirm.status_code == 200
    assert b"Close the connection" in confirm.content
    assert LiveConnection.objects.get(connection_id=f"{2:032x}").disconnect_requested_at is None

    done = publisher.post(url, {"reason": "  too   chatty ", "next": "/publisher/apis/echo/live/"})
    assert done.status_code == 302 and done["Location"] == "/publisher/apis/echo/live/"
    row = LiveConnection.objects.get(connection_id=f"{2:032x}")
    assert row.disconnect_reason == "too chatty" and row.disconnect_requested_at is not None
    assert any("live connection closed" in r.getMessage() for r in caplog.records)
    assert b"closing" in publisher.get("/publisher/apis/echo/live/").content
    # The process that holds it learns it at its next report.
    asked = live_services.record_live_report(
        gateway_name="managed", report={"node_id": "node-a", "worker": "7"}
    )
    assert asked == [{"id": f"{2:032x}", "reason": "too chatty"}]


def test_developers_see_and_close_their_own_connections_only(client, live):
    client.force_login(live["dev"])
    assert client.get("/publisher/apis/echo/live/").status_code in (302, 403)
    usage = client.get(f"/usage/{live['mine'].pk}/").content.decode()
    assert f'data-connection="{1:032x}"' in usage and f"{2:032x}" not in usage

    mine = f"/usage/{live['mine'].pk}/connections/{1:032x}/close/"
    assert client.get(mine).status_code == 200
    assert client.post(mine).status_code == 302
    row = LiveConnection.objects.get(connection_id=f"{1:032x}")
    assert row.disconnect_reason == live_services.OWNER_REASON
    theirs = f"/usage/{live['mine'].pk}/connections/{2:032x}/close/"
    assert client.post(theirs).status_code == 404
    assert client.post(f"/usage/{live['theirs'].pk}/connections/{2:032x}/close/").status_code == 404
    assert LiveConnection.objects.get(connection_id=f"{2:032x}").disconnect_requested_at is None


def test_a_silent_process_leaves_no_ghosts(publisher, live):
    # The process goes quiet: its rows stay until someone cleans up, but are not listed.
    LiveWorker.objects.update(reported_at=timezone.now() - timedelta(seconds=60))
    assert publisher.get("/api/v1/connections/").json()["results"] == []
    assert publisher.get("/publisher/apis/echo/live/").content.count(b'data-connection="') == 0
    # Any process's next report deletes the silent one with its connections.
    live_services.record_live_report(
        gateway_name="managed", report={"node_id": "node-b", "worker": "1", "keepalive": True}
    )
    assert LiveConnection.objects.count() == 0
