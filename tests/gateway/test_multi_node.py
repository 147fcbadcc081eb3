"""Issue 11's deployment, end to end: a portal, two self-hosted gateway nodes in their own network
namespaces behind a real HAProxy, PostgreSQL and Redis.

Shown here: connections through HAProxy land on both nodes; a rate limit of 5 calls is exact
across them; suspending a subscription closes its open connections on both nodes within 2 s
(close code 1008); with the portal stopped both nodes keep relaying and accept new handshakes, a
node restarted meanwhile serves from its saved configuration, and the connection records made
during the outage all arrive once the portal is back. Nodes of a managed gateway (reading the
database) show the same first three at the edge.
"""

import asyncio
import os
import time
from dataclasses import dataclass

import pytest
from django.db import connection
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.models import Gateway, Product, Subscription
from apis.telemetry.models import ConnectionLog
from tests.support.backend import BackendServer
from tests.support.client import refused, run, ws_connect
from tests.support.cluster import Cluster
from tests.support.haproxy import haproxy_available
from tests.support.netns import NamespaceNetwork, make_network

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Five processes start (Django imports take seconds each on a busy machine), one restarts.
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL: DATABASE_URL=postgres://... (.ci/run's second pass sets it)",
    ),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)"),
    pytest.mark.skipif(not haproxy_available(), reason="haproxy not installed (.ci/run does)"),
]

LIMIT = 5


def doc(inbound: str) -> str:
    return f"<policies><inbound>{inbound}</inbound><backend><base/></backend></policies>"


@dataclass
class Deployment:
    cluster: Cluster
    backend: BackendServer
    subscription: Subscription
    other: Subscription  # on the same product, never suspended here

    def url(self, path: str = "echo", subscription: Subscription | None = None) -> str:
        key = (subscription or self.subscription).primary_key
        return f"{self.cluster.haproxy.ws_url}/{path}?subscription-key={key}"

    @property
    def node_addresses(self) -> set[str]:
        return {self.cluster.network.address(i) for i in range(self.cluster.nodes)}

    def remotes(self, since: int = 0) -> list[str]:
        """The address each backend connection came from (which node relayed it)."""
        return [seen.remote for seen in self.backend.requests[since:]]

    def correlation_ids(self, since: int = 0) -> set[str]:
        return {seen.headers["x-correlation-id"] for seen in self.backend.requests[since:]}


@pytest.fixture
def deployment(request, transactional_db, tmp_path):
    """Self-hosted nodes by default; `managed` (indirect parameter) makes them read the database."""
    managed = getattr(request, "param", "self_hosted") == "managed"
    network = make_network(2).up()
    backend = BackendServer(host=network.host).start()
    cluster = None
    try:
        edge = services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
        echo = services.create_api(
            display_name="Echo",
            backend_url=f"{backend.url}/echo",
            url_suffix="echo",
            gateways=[edge],
        )
        limited = services.create_api(
            display_name="Limited",
            backend_url=f"{backend.url}/limited",
            url_suffix="limited",
            gateways=[edge],
            policy_xml=doc(f'<rate-limit calls="{LIMIT}" renewal-period="300"/>'),
        )
        product = services.create_product(
            display_name="Starter", state=Product.State.PUBLISHED, apis=[echo, limited]
        )
        subscription = services.create_subscription(display_name="Suspended later", product=product)
        other = services.create_subscription(display_name="Untouched", product=product)
        token = "" if managed else services.regenerate_gateway_token(gateway=edge, which="primary")
        cluster = Cluster(
            managed=managed,
            network=network,
            work_dir=tmp_path,
            gateway="edge",
            token=token,
            redis_url=os.environ["REDIS_URL"],
        )
        cluster.start_portal()
        cluster.start_haproxy()
        cluster.start_nodes()
        cluster.haproxy.wait_nodes_up()
        yield Deployment(cluster, backend, subscription, other)
    finally:
        if cluster:
            print(cluster.logs())  # captured: pytest shows it when the test fails
            cluster.stop()
        backend.stop()
        network.down()


def suspend(subscription: Subscription) -> None:
    """Suspend from a worker thread, closing that thread's database connection afterwards."""
    try:
        services.suspend_subscription(subscription=subscription)
    finally:
        connection.close()


async def echo(url: str, message: str = "hi") -> str:
    async with ws_connect(url) as ws:
        await ws.send(message)
        return await ws.recv()


async def attempt(url: str) -> int:
    """101 when the handshake is accepted (and relays), else the refusal's status."""
    try:
        async with ws_connect(url) as ws:
            await ws.send("hi")
            await ws.recv()
            return 101
    except Exception:  # noqa: BLE001 - refused: ask again for the status
        return (await refused(url)).status


def check_spread_and_limit(d: Deployment) -> None:
    """Connections through HAProxy land on both nodes; a limit of 5 is exact across them."""

    async def hold_four():
        sockets = [await ws_connect(d.url()) for _ in range(4)]
        try:
            for i, ws in enumerate(sockets):
                await ws.send(f"m{i}")
            return [await ws.recv() for ws in sockets]
        finally:
            for ws in sockets:
                await ws.close()

    assert run(hold_four()) == ["m0", "m1", "m2", "m3"]
    sessions = d.cluster.haproxy.server_sessions()
    assert all(count >= 2 for count in sessions.values()), sessions
    if isinstance(d.cluster.network, NamespaceNetwork):
        assert set(d.remotes()) == d.node_addresses  # each node relayed from its own address

    before = len(d.backend.requests)
    statuses = [run(attempt(d.url("limited"))) for _ in range(LIMIT + 3)]
    assert statuses.count(101) == LIMIT, statuses
    assert statuses[LIMIT:] == [429, 429, 429], statuses
    if isinstance(d.cluster.network, NamespaceNetwork):
        assert set(d.remotes(before)) == d.node_addresses  # both nodes counted in one Redis


def check_revocation(d: Deployment) -> None:
    """Suspending a subscription closes its connections on both nodes within 2 s (1008)."""

    before = len(d.backend.requests)

    async def scenario():
        doomed = [await ws_connect(d.url()) for _ in range(4)]
        spared = await ws_connect(d.url(subscription=d.other))
        started = time.monotonic()
        await asyncio.to_thread(suspend, d.subscription)
        closes = []
        for ws in doomed:
            try:
                await asyncio.wait_for(ws.recv(), timeout=5)
            except ConnectionClosed:
                pass
            closes.append((ws.close_code, ws.close_reason, time.monotonic() - started))
        await spared.send("still here")
        answer = await spared.recv()
        await spared.close()
        return closes, answer

    closes, answer = run(scenario())
    if isinstance(d.cluster.network, NamespaceNetwork):
        assert set(d.remotes(before)) == d.node_addresses
    assert [code for code, _reason, _s in closes] == [1008] * 4, closes
    assert all("suspended" in reason for _code, reason, _s in closes), closes
    assert max(seconds for _c, _r, seconds in closes) <= 2.0, closes
    assert answer == "still here"  # a connection of another subscription is not touched
    assert d.subscription.primary_key not in d.cluster.logs()


def check_portal_outage(d: Deployment) -> None:
    """With the portal stopped both nodes keep relaying and accept new handshakes; a node
    restarted meanwhile serves from its saved configuration; the connection records made during
    the outage all arrive when the portal returns."""
    cluster, haproxy = d.cluster, d.cluster.haproxy
    url = d.url(subscription=d.other)
    first = len(d.backend.requests)

    async def held_then_new_handshakes():
        held = [await ws_connect(url) for _ in range(2)]  # one on each node (round robin)
        await asyncio.to_thread(cluster.stop_portal)
        for i, ws in enumerate(held):
            await ws.send(f"held{i}")
            assert await ws.recv() == f"held{i}"
        answers = [await echo(url, f"new{i}") for i in range(4)]
        for ws in held:
            await ws.close()
        return answers

    before = haproxy.server_sessions()
    assert run(held_then_new_handshakes()) == ["new0", "new1", "new2", "new3"]
    during = haproxy.server_sessions()
    assert all(during[name] - before[name] >= 2 for name in during), (before, during)
    if isinstance(cluster.network, NamespaceNetwork):
        assert set(d.remotes(first)) == d.node_addresses

    # A node restarted while the portal is away starts from its saved configuration.
    cluster.stop_node(1)
    cluster.start_node(1)
    haproxy.wait_nodes_up()
    direct = f"ws://{cluster.network.address(1)}:{cluster.node_port}/echo?subscription-key="
    assert run(echo(direct + d.other.primary_key, "direct")) == "direct"
    assert run(refused(direct + "nope")).status == 401
    assert run(refused(direct + d.subscription.primary_key)).status == 403  # still suspended
    assert [run(echo(url, f"after{i}")) for i in range(4)] == [f"after{i}" for i in range(4)]

    made_during_outage = d.correlation_ids(first)
    assert len(made_during_outage) == 11  # 2 held + 4 new + 1 direct + 4 after the restart
    assert not ConnectionLog.objects.filter(correlation_id__in=made_during_outage).exists()

    cluster.start_portal()
    records = ConnectionLog.objects.filter(correlation_id__in=made_during_outage)
    deadline = time.monotonic() + 90  # the nodes retry with backoff (up to 30 s apart)
    while time.monotonic() < deadline and records.count() < len(made_during_outage):
        time.sleep(0.5)
    arrived = set(records.values_list("correlation_id", flat=True))
    assert arrived == made_during_outage, f"missing {made_during_outage - arrived}"
    assert records.count() == len(made_during_outage)  # each exactly once, retries or not


def test_two_self_hosted_nodes_behind_haproxy(deployment):
    check_spread_and_limit(deployment)
    check_revocation(deployment)
    check_portal_outage(deployment)  # last: it stops and restarts pieces


@pytest.mark.parametrize("deployment", ["managed"], indirect=True)
def test_two_managed_nodes_behave_the_same_at_the_edge(deployment):
    """Nodes of a managed gateway read the database instead of the portal: same spread, same
    exact limit, same revocation."""
    check_spread_and_limit(deployment)
    check_revocation(deployment)
