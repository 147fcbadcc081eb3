"""A node token reaches only its own gateway (issue 23): the configuration it pulls, the telemetry
and live connections it may write, and a long-poll that outlives its token."""

import json
import threading
import time

import pytest

from apis import selectors, services
from apis.telemetry.models import ConnectionLog, LiveConnection, RefusalMinute, UsageMinute
from tests.support import two_gateways
from tests.support.nodes import http
from tests.support.two_gateways import (
    EDGE_SUBSCRIPTIONS,
    GLOBAL_SECRET,
    OTHER_PRODUCT_SECRET,
    OTHER_SECRET,
)

pytestmark = pytest.mark.django_db(transaction=True)

V1 = "/_portico/gateways/v1/"
STARTED = "2026-01-01T10:00:00+00:00"
POLL_TIMEOUT = 10.0  # seconds: a request the control plane holds longer counts as hung


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(edge):
    return two_gateways.build(
        edge.gateway, edge.gateway.apis.get(), edge.subscription.product, edge.subscription
    )


def test_a_node_pulls_only_its_own_gateways_catalog_and_secrets(control, edge, world):
    status, headers, body = http(control.http_url + V1 + "config", headers=bearer(edge.token))
    assert (status, headers["x-portico-gateway"]) == (200, "edge")
    text = body.decode()
    assert OTHER_SECRET not in text and OTHER_PRODUCT_SECRET not in text
    config = json.loads(text)
    assert [api["url_suffix"] for api in config["apis"]] == ["echo"]
    assert [p["id"] for p in config["products"]] == sorted([world.starter.id, world.bundle.id])
    assert [s["id"] for s in config["subscriptions"]] == world.ids(*EDGE_SUBSCRIPTIONS)
    assert [ended[0] for ended in config["ended_subscriptions"]] == world.ids("starter_ended")
    assert GLOBAL_SECRET in config["secret_values"]


def record(n: int, api_id: int, subscription_id: int | None = None, product_id=None) -> dict:
    return {
        "correlation_id": f"{n:032x}",
        "api_id": api_id,
        "product_id": product_id,
        "subscription_id": subscription_id,
        "path": "/x",
        "started_at": STARTED,
        "ended_at": STARTED,
        "state": "accepted",
        "status": 101,
    }


def figure(api_id: int, subscription_id: int = 0, **more) -> dict:
    return {"minute": STARTED, "api_id": api_id, "subscription_id": subscription_id, **more}


def test_telemetry_for_another_gateways_apis_or_subscriptions_is_dropped_and_counted(
    control, edge, world, caplog
):
    echo, feed, subs = world.echo.id, world.feed.id, world.subs
    batch = {
        "batch_id": "t23-telemetry",
        "records": [
            record(1, echo, subs["edge"].id, world.starter.id),  # kept
            record(2, echo, subs["all"].id),  # kept: an All APIs subscription opens echo
            record(3, feed, subs["premium"].id, world.premium.id),  # other's API
            record(4, echo, subs["premium"].id, world.premium.id),  # Premium does not offer echo
            record(5, echo, subs["feed_api"].id),  # scoped to other's API
            record(6, None),  # a refusal before any API was found: the gateway's own
        ],
        "usage": [figure(echo, subs["echo_api"].id, accepted=1), figure(feed, accepted=1)],
        "refusals": [
            figure(echo, state="refused", status=401, count=2),
            figure(feed, state="refused", status=401, count=3),
        ],
    }
    status, _h, body = http(
        control.http_url + V1 + "telemetry", method="POST", headers=bearer(edge.token), body=batch
    )
    assert status == 200
    assert json.loads(body) == {"stored": True, "records": 3, "dropped": 5}
    assert sorted(ConnectionLog.objects.values_list("correlation_id", flat=True)) == [
        f"{n:032x}" for n in (1, 2, 6)
    ]
    assert list(UsageMinute.objects.values_list("api_id", "subscription_id")) == [
        (echo, subs["echo_api"].id)
    ]
    assert list(RefusalMinute.objects.values_list("api_id", "count")) == [(echo, 2)]


def opened(n: int, api_id: int, subscription_id: int | None = None, product_id=None) -> dict:
    return {
        "id": f"{n:032x}",
        "api_id": api_id,
        "api_name": "x",
        "product_id": product_id,
        "subscription_id": subscription_id,
        "opened_at": STARTED,
    }


def test_live_connections_on_another_gateways_apis_are_not_listed(control, edge, world):
    echo, feed, subs = world.echo.id, world.feed.id, world.subs
    url = control.http_url + V1 + "connections"

    def post(**report) -> dict:
        status, _h, body = http(
            url, method="POST", headers=bearer(edge.token), body={"node_id": "n", **report}
        )
        assert status == 200, body
        return json.loads(body)

    delta = [
        opened(1, echo, subs["edge"].id, world.starter.id),
        opened(2, feed, subs["premium"].id, world.premium.id),
        opened(3, echo, subs["feed_api"].id),
    ]
    assert post(worker="1", opened=delta)["dropped"] == 2
    full = [opened(4, echo), opened(5, feed), opened(6, echo, subs["bundle"].id, world.bundle.id)]
    assert post(worker="2", full=True, opened=full)["dropped"] == 1
    assert sorted(LiveConnection.objects.values_list("connection_id", "api_id")) == [
        (f"{1:032x}", echo),
        (f"{4:032x}", echo),
        (f"{6:032x}", echo),
    ]


def config_url(control, wait: str) -> str:
    return f"{control.http_url}{V1}config?wait={wait}"


@pytest.mark.parametrize("wait", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_a_wait_that_is_not_a_finite_number_is_refused(control, edge, wait):
    etag = f'"{selectors.catalog_revision()}"'
    headers = {**bearer(edge.token), "If-None-Match": etag}
    status, _h, body = http(config_url(control, wait), headers=headers, timeout=POLL_TIMEOUT)
    assert status == 400
    assert json.loads(body)["field"] == "wait"


def test_a_negative_wait_does_not_wait(control, edge):
    etag = f'"{selectors.catalog_revision()}"'
    headers = {**bearer(edge.token), "If-None-Match": etag}
    status, headers, _b = http(config_url(control, "-5"), headers=headers, timeout=POLL_TIMEOUT)
    assert (status, headers["etag"]) == (304, etag)


def test_a_long_poll_whose_token_is_replaced_meanwhile_gets_401_not_the_configuration(
    control, edge
):
    etag = f'"{selectors.catalog_revision()}"'
    headers = {**bearer(edge.token), "If-None-Match": etag}
    answers = []
    poll = threading.Thread(
        target=lambda: answers.append(http(config_url(control, "30"), headers=headers))
    )
    poll.start()
    # Give the poll time to pass its first token check. Ordering only: if it has not, it is
    # refused at once, which passes here too (the check then just proves less).
    time.sleep(1.0)
    services.regenerate_gateway_token(gateway=edge.gateway, which="primary")
    services.suspend_subscription(subscription=edge.subscription)  # a new revision: answer now
    poll.join(40)
    [(status, _h, body)] = answers
    assert status == 401, body[:200]
    assert b"subscriptions" not in body
