"""Connection caps through real gateway processes: exact across two nodes sharing Redis, freed
by a close, by a killed client and, after one lease, by a killed node; and on a self-hosted
node, which gets the cap in its configuration."""

import asyncio
import os
import subprocess
import sys
import time
import uuid

import pytest
from websockets.exceptions import InvalidStatus

from apis import counters, services
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)"
)

LEASE = "2"
HOLDER = """
import asyncio, sys
from websockets.asyncio.client import connect
async def main():
    async with connect(sys.argv[1], proxy=None) as ws:
        await ws.send("hold")
        await ws.recv()
        print("open", flush=True)
        await asyncio.sleep(120)
asyncio.run(main())
"""


@pytest.fixture
def nodes(server_logs, settings):
    """Two gateway processes (as two nodes) counting in one Redis under one key prefix, and this
    process's counter reader (the pages' `apis.counters`) pointed at the same counters."""
    prefix = f"portico-caps-{uuid.uuid4().hex}"
    settings.PORTICO_LIMITS_STORAGE = os.environ["REDIS_URL"]
    settings.PORTICO_LIMITS_KEY_PREFIX = prefix
    settings.PORTICO_COUNTERS_TIMEOUT_SECONDS = 5
    counters.policy_runtime.cache_clear()
    env = {
        "PORTICO_LIMITS_KEY_PREFIX": prefix,
        "PORTICO_CONCURRENCY_LEASE_SECONDS": LEASE,
        # Sharing, not Redis' latency on a busy machine, is what these tests are about.
        "PORTICO_COUNTERS_TIMEOUT_SECONDS": "5",
    }
    servers = [ServerProcess("gateway", server_logs, **env) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()
    counters.policy_runtime.cache_clear()


def open_count(subscription) -> int:
    return counters.open_connections([subscription.id])[subscription.id]


def wait_for_count(subscription, expected: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (count := open_count(subscription)) != expected:
        assert time.monotonic() < deadline, f"{count} connections open, expected {expected}"
        time.sleep(0.1)


async def hold(url: str):
    ws = await ws_connect(url)
    await ws.send("hold")
    await ws.recv()
    return ws


@needs_redis
def test_cap_is_exact_across_two_nodes_and_every_slot_comes_back(nodes, catalog):
    # The API allows 5, the product 3: the smaller wins.
    services.update_api(api=catalog.api, max_connections_per_subscription=5)
    services.update_product(product=catalog.product, max_connections_per_subscription=3)
    a, b = nodes
    serve_current_catalog(a, b)
    key = catalog.subscription.primary_key
    url_a, url_b = (f"{n.ws_url}/echo?subscription-key={key}" for n in nodes)
    full = "connection limit reached: 3 of 3 connections open for this subscription"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url_b], stdout=subprocess.PIPE, text=True
    )

    async def refused_full(url: str) -> None:
        refusal = await refused(url)
        assert (refusal.status, refusal.body["message"]) == (429, full)

    async def count_becomes(expected: int) -> None:
        await asyncio.to_thread(wait_for_count, catalog.subscription, expected)

    async def scenario():
        # One in a separate client process on node B, two on node A: 3 of 3, on either node.
        assert (await asyncio.to_thread(holder.stdout.readline)).strip() == "open"
        on_a = [await hold(url_a), await hold(url_a)]
        await refused_full(url_b)
        await refused_full(url_a)
        await asyncio.sleep(float(LEASE) * 1.25)  # past one lease: the renewals keep them
        await refused_full(url_b)
        await count_becomes(3)

        await on_a.pop().close()  # a clean close frees its slot
        await count_becomes(2)
        on_b = await hold(url_b)
        await refused_full(url_a)

        holder.kill()  # a client killed abruptly: no close frame
        await asyncio.to_thread(holder.wait, 10)
        await count_becomes(2)

        # Node A dies holding one connection: nobody gives that slot back; its lease expires.
        a.process.kill()
        await asyncio.to_thread(a.process.wait, 10)
        await count_becomes(1)
        more = [await hold(url_b), await hold(url_b)]
        await refused_full(url_b)
        await on_b.send("still relayed")
        assert await on_b.recv() == "still relayed"
        for ws in [on_b, *more]:
            await ws.close()
        await count_becomes(0)

    try:
        run(scenario())
    finally:
        holder.kill()
        holder.wait(10)
    log = a.output() + b.output()
    assert full in log  # the refusal is logged, with the subscription's id and no key
    assert key not in log and catalog.subscription.secondary_key not in log


def test_a_self_hosted_node_gets_the_cap_from_its_configuration(control, edge, start_edge_node):
    """One node counting in its own memory (no Redis), as a single-worker node may."""
    services.update_product(product=edge.subscription.product, max_connections_per_subscription=1)
    node = start_edge_node(control, REDIS_URL="", PORTICO_LIMITS_STORAGE="memory://")
    try:
        serve_current_catalog(node)
        url = f"{node.ws_url}/echo?subscription-key={edge.subscription.primary_key}"

        async def scenario():
            first = await hold(url)
            refusal = await refused(url)
            assert (refusal.status, refusal.body["message"]) == (
                429,
                "connection limit reached: 1 of 1 connections open for this subscription",
            )
            await first.close()
            for _ in range(100):  # the node frees the slot as its side of the close ends
                try:
                    second = await hold(url)
                except InvalidStatus as exc:
                    assert exc.response.status_code == 429
                    await asyncio.sleep(0.05)
                else:
                    await second.close()
                    return
            raise AssertionError("the closed connection's slot never came back")

        run(scenario())
    finally:
        node.stop()
