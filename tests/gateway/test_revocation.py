"""Withdrawn access closes open connections: the client gets 1008 and why, the backend 1001."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.models import Product
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_BOUND = 5.0  # seconds a revoked connection may take to close here (the goal is 2 s)


def url(gateway, key: str) -> str:
    return f"{gateway.ws_url}/echo?subscription-key={key}"


def open_and_withdraw(gateway, backend, key: str, withdraw, *, keep: str | None = None):
    """Open a connection (and optionally a second one with `keep`), run `withdraw` while both
    relay, and return (client close code, reason, backend close code, kept connection's echo)."""
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, key)) as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            other = None
            if keep is not None:
                other = await ws_connect(url(gateway, keep))
                await other.send("other")
                assert await other.recv() == "other"
            await asyncio.to_thread(withdraw)
            with pytest.raises(ConnectionClosed):
                while True:  # anything still in flight, then the close
                    await asyncio.wait_for(ws.recv(), CLOSE_BOUND)
            kept = None
            if other is not None:
                await other.send("still here")
                kept = await asyncio.wait_for(other.recv(), CLOSE_BOUND)
                await other.close()
            return ws.close_code, ws.close_reason, kept

    code, reason, kept = run(scenario())
    seen = backend.requests[0]
    assert backend.wait_closed(seen)
    return code, reason, seen.closed_code, kept


def second_subscription(catalog, **fields):
    return services.create_subscription(
        display_name="Unaffected", product=catalog.product, **fields
    )


def test_suspending_closes_the_connection_and_leaves_others_running(gateway, catalog, backend):
    other = second_subscription(catalog)
    code, reason, backend_code, kept = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.suspend_subscription(subscription=catalog.subscription),
        keep=other.primary_key,
    )
    assert (code, reason, backend_code) == (1008, "subscription suspended", 1001)
    assert kept == "still here"  # another subscription's connection keeps relaying
    result = run(refused(url(gateway, catalog.key)))
    assert result.status == 403  # and new handshakes are refused as before


def test_cancelling_closes_with_subscription_cancelled(gateway, catalog, backend):
    code, reason, backend_code, _ = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.cancel_subscription(subscription=catalog.subscription),
    )
    assert (code, reason, backend_code) == (1008, "subscription cancelled", 1001)


def test_expiring_by_state_closes_with_subscription_expired(gateway, catalog, backend):
    code, reason, _, _ = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.change_subscription_state(
            subscription=catalog.subscription, action="expire"
        ),
    )
    assert (code, reason) == (1008, "subscription expired")


def test_expiration_date_passing_closes_the_connection(gateway, catalog, backend):
    soon = second_subscription(catalog, expiration_date=timezone.now() + timedelta(seconds=2))
    code, reason, backend_code, _ = open_and_withdraw(
        gateway, backend, soon.primary_key, lambda: None
    )
    assert (code, reason, backend_code) == (1008, "subscription expired", 1001)


def test_regenerating_the_key_closes_only_connections_made_with_it(gateway, catalog, backend):
    secondary = catalog.subscription.secondary_key
    code, reason, backend_code, kept = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.regenerate_subscription_key(
            subscription=catalog.subscription, which="primary"
        ),
        keep=secondary,
    )
    assert (code, reason, backend_code) == (1008, "key regenerated", 1001)
    assert kept == "still here"  # the secondary key was not regenerated
    assert catalog.key not in reason


def test_deleting_the_api_closes_its_connections(gateway, catalog, backend):
    code, reason, _, _ = open_and_withdraw(
        gateway, backend, catalog.key, lambda: services.delete_api(api=catalog.api)
    )
    assert (code, reason) == (1008, "API removed from this gateway")


def test_removing_the_api_from_the_gateway_closes_its_connections(gateway, catalog, backend):
    code, reason, _, _ = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.update_api(api=catalog.api, gateways=[]),
    )
    assert (code, reason) == (1008, "API removed from this gateway")


def test_removing_the_api_from_the_product_closes_its_connections(gateway, catalog, backend):
    code, reason, _, _ = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.update_product(product=catalog.product, apis=[]),
    )
    assert (code, reason) == (1008, "API removed from the product")


def test_unpublishing_the_product_closes_its_connections(gateway, catalog, backend):
    code, reason, backend_code, _ = open_and_withdraw(
        gateway,
        backend,
        catalog.key,
        lambda: services.update_product(product=catalog.product, state=Product.State.NOT_PUBLISHED),
    )
    assert (code, reason, backend_code) == (1008, "product unpublished", 1001)
    result = run(refused(url(gateway, catalog.key)))
    assert result.status == 403 and "not published" in result.body["message"]


def test_an_unrelated_change_closes_nothing(gateway, catalog, backend):
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, catalog.key)) as ws:
            await ws.send("a")
            assert await ws.recv() == "a"
            await asyncio.to_thread(
                services.create_subscription, display_name="New", product=catalog.product
            )
            await asyncio.to_thread(serve_current_catalog, gateway)
            await ws.send("b")
            return await asyncio.wait_for(ws.recv(), CLOSE_BOUND)

    assert run(scenario()) == "b"
