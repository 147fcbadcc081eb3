"""An API fed by Redis Streams, end to end: the real gateway (uvicorn), the real Redis, real
clients. Fan-out through one subscription, envelope and raw, resume without gap or duplicate,
patterns, publishing, slow clients, and the broker down or lost."""

import asyncio
import json
import time

import pytest
import redis
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.models import Api
from tests.support.brokers import SHARED_REDIS, BrokerProcess, unique_name
from tests.support.client import refused, run, ws_connect
from tests.support.event_sources import event_api, url
from tests.support.raw_client import RawClient
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    client = redis.Redis.from_url(SHARED_REDIS)
    yield client
    client.close()


async def receive(ws, count: int) -> list:
    return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(count)]


def blocked_readers(client) -> int:
    """Clients of db 6 blocked in a command (the gateway's XREADs): this area's database only."""
    return sum(1 for c in client.client_list() if c.get("db") == "6" and "b" in c.get("flags", ""))


def test_every_client_gets_each_entry_as_an_envelope_through_one_shared_subscription(
    gateway, broker
):
    stream = unique_name("prices")
    _, key = event_api(SHARED_REDIS, {"subscribe": stream})
    serve_current_catalog(gateway)
    before = blocked_readers(broker)

    async def scenario():
        clients = [await ws_connect(url(gateway, "prices", key)).__aenter__() for _ in range(5)]
        try:
            await asyncio.sleep(0.3)  # let the feed's XREAD block
            readers = blocked_readers(broker) - before
            ids = [broker.xadd(stream, {"price": str(n)}).decode() for n in range(3)]
            got = [await receive(ws, 3) for ws in clients]
            return readers, ids, got
        finally:
            for ws in clients:
                await ws.close()

    readers, ids, got = run(scenario())
    assert readers == 1  # five connections, one broker subscription (one gateway process)
    expected = [{"id": i, "subject": stream, "data": {"price": str(n)}} for n, i in enumerate(ids)]
    assert got == [expected] * 5


def test_envelope_false_sends_the_raw_payload(gateway, broker):
    stream = unique_name("raw")
    _, key = event_api(SHARED_REDIS, {"subscribe": stream, "envelope": False})
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, "prices", key)) as ws:
            await asyncio.sleep(0.2)
            broker.xadd(stream, {"data": '{"a": 1}'})
            broker.xadd(stream, {"x": "1", "y": "2"})
            return [await asyncio.wait_for(ws.recv(), 10) for _ in range(2)]

    assert run(scenario()) == ['{"a": 1}', '{"x":"1","y":"2"}']


@pytest.mark.parametrize("where", ["header", "query"])
def test_a_client_resuming_from_its_last_id_gets_the_rest_then_live_without_duplicates(
    gateway, broker, where
):
    stream = unique_name("resume")
    _, key = event_api(SHARED_REDIS, {"subscribe": stream})
    serve_current_catalog(gateway)
    ids = [broker.xadd(stream, {"n": str(n)}).decode() for n in range(600)]  # > 2 replay pages

    async def scenario():
        if where == "header":
            connect = ws_connect(
                url(gateway, "prices", key), additional_headers={"Last-Event-ID": ids[99]}
            )
        else:
            connect = ws_connect(url(gateway, "prices", key, f"&last-event-id={ids[99]}"))
        async with connect as ws:
            replayed = await receive(ws, 500)
            live_id = broker.xadd(stream, {"n": "live"}).decode()
            live = await receive(ws, 1)
            try:
                extra = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                extra = None
            return replayed, live_id, live, extra

    replayed, live_id, live, extra = run(scenario())
    assert [m["id"] for m in replayed] == ids[100:]
    assert [m["data"]["n"] for m in replayed] == [str(n) for n in range(100, 600)]
    assert live == [{"id": live_id, "subject": stream, "data": {"n": "live"}}]
    assert extra is None  # nothing delivered twice


def test_a_last_event_id_that_is_no_stream_id_is_400(gateway, broker):
    _, key = event_api(SHARED_REDIS, {"subscribe": unique_name("bad")})
    serve_current_catalog(gateway)
    result = run(refused(url(gateway, "prices", key, "&last-event-id=yesterday")))
    assert result.status == 400
    assert "Last-Event-ID" in result.body["message"]


def test_an_expression_picks_the_stream_and_a_name_outside_allow_is_403(gateway, broker):
    prefix = unique_name("px")
    source = {
        "subscribe": f'@("{prefix}." + '
        'context.Request.Url.Query.GetValueOrDefault("symbol", "btc"))',
        "allow": [f"{prefix}.btc", f"{prefix}.e*"],
    }
    _, key = event_api(SHARED_REDIS, source)
    serve_current_catalog(gateway)
    result = run(refused(url(gateway, "prices", key, "&symbol=doge")))
    assert result.status == 403
    assert result.body["message"] == "This subscription is not allowed."

    async def scenario():
        async with ws_connect(url(gateway, "prices", key, "&symbol=eth")) as ws:
            await asyncio.sleep(0.2)
            broker.xadd(f"{prefix}.btc", {"p": "1"})  # another stream: not this client's
            broker.xadd(f"{prefix}.eth", {"p": "2"})
            return await receive(ws, 1)

    assert run(scenario())[0]["subject"] == f"{prefix}.eth"


def test_client_messages_go_to_the_publish_stream_or_close_1008_without_one(gateway, broker):
    stream, inbox = unique_name("feed"), unique_name("inbox")
    _, key = event_api(SHARED_REDIS, {"subscribe": stream, "publish": inbox})
    _, read_only_key = event_api(SHARED_REDIS, {"subscribe": stream}, suffix="readonly")
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, "prices", key)) as ws:
            await ws.send('{"order": 1}')
            await ws.send("two")
            await asyncio.sleep(0.3)
        async with ws_connect(url(gateway, "readonly", read_only_key)) as ws:
            await ws.send("not allowed")
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                return closed.rcvd.code, closed.rcvd.reason
        return None

    closed = run(scenario())
    entries = broker.xrange(inbox)
    assert [fields for _id, fields in entries] == [{b"data": b'{"order": 1}'}, {b"data": b"two"}]
    assert closed == (1008, "this API does not take client messages")


@pytest.mark.parametrize("overflow", ["drop-oldest", "close"])
def test_a_client_that_stops_reading_never_slows_another(gateway, broker, overflow):
    stream = unique_name("flood")
    _, key = event_api(SHARED_REDIS, {"subscribe": stream, "queue": 200, "overflow": overflow})
    # The fast reader's API reads the same stream (so the same shared broker subscription) with
    # room for every entry: however busy the machine, only the client that stops reading lags.
    _, fast_key = event_api(SHARED_REDIS, {"subscribe": stream, "queue": 10_000}, suffix="fast")
    serve_current_catalog(gateway)
    batches, size, blob = 25, 100, "x" * 4000  # 10 MB: more than the socket buffers hold
    total = batches * size
    # A tiny receive window, and the test never reads until the end: the gateway's writes stop.
    slow = RawClient(url(gateway, "prices", key), rcvbuf=4096)
    try:

        async def fast_reader():
            async with ws_connect(url(gateway, "fast", fast_key)) as fast:
                await asyncio.sleep(0.3)

                async def publish():
                    for batch in range(batches):
                        pipe = broker.pipeline(transaction=False)
                        for n in range(batch * size, (batch + 1) * size):
                            pipe.xadd(stream, {"n": str(n), "blob": blob})
                        pipe.execute()
                        await asyncio.sleep(0.02)  # paced, so the fast client's queue keeps up

                publisher = asyncio.create_task(publish())
                got = [m["data"]["n"] for m in await receive(fast, total)]
                await publisher
                return got

        fast_got = run(fast_reader())
        slow_got, close_code = 0, None
        slow.sock.settimeout(5)
        while close_code is None:
            try:
                frames = slow.read_frames()
            except TimeoutError:
                break  # nothing more: the connection stays open
            if not frames and not slow.established():
                break
            for frame in frames:
                if frame.opcode.name == "CLOSE":
                    close_code = int.from_bytes(frame.data[:2], "big")
                else:
                    slow_got += 1
    finally:
        slow.close()
    assert fast_got == [str(n) for n in range(total)]  # every entry, in order
    assert slow_got < total
    if overflow == "close":
        assert close_code == 1008
    else:
        assert close_code is None  # still open: its oldest events were dropped instead
        assert wait_for_log(gateway, "event(s) dropped for a slow client")  # at its close


def wait_for_log(server, words: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if words in server.output():
            return True
        time.sleep(0.1)
    return False


def test_a_broker_that_is_down_at_the_handshake_answers_502_with_a_reason(gateway, broker):
    from tests.support.backend import free_port

    _, key = event_api(f"redis://127.0.0.1:{free_port()}/0", {"subscribe": "nothing"})
    serve_current_catalog(gateway)
    result = run(refused(url(gateway, "prices", key)))
    assert result.status == 502
    assert result.body["message"] == "The event source is unreachable."
    assert "Traceback" not in gateway.output()


def test_a_lost_broker_closes_1012_and_a_reconnect_with_the_last_id_misses_nothing(
    gateway, tmp_path
):
    own = BrokerProcess("redis", tmp_path / "redis").start()
    try:
        stream = unique_name("lost")
        _, key = event_api(own.url, {"subscribe": stream})
        serve_current_catalog(gateway)
        client = redis.Redis.from_url(own.url)

        async def before_loss():
            async with ws_connect(url(gateway, "prices", key)) as ws:
                await asyncio.sleep(0.2)
                client.xadd(stream, {"n": "1"})
                first = await receive(ws, 1)
                own.stop()
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    return first, closed.rcvd.code
            return first, None

        first, code = run(before_loss())
        assert code == 1012
        own.start()  # the same port and data directory: the stream is still there
        client = redis.Redis.from_url(own.url)
        missed = [client.xadd(stream, {"n": str(n)}).decode() for n in (2, 3)]

        async def after_restart():
            headers = {"Last-Event-ID": first[0]["id"]}
            async with ws_connect(url(gateway, "prices", key), additional_headers=headers) as ws:
                got = await receive(ws, 2)
                try:
                    extra = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    extra = None
                return got, extra

        got, extra = run(after_restart())
        assert [m["id"] for m in got] == missed
        assert extra is None
        client.close()
    finally:
        own.stop()


def test_suspending_the_subscription_closes_1008_and_ends_the_shared_subscription(gateway, broker):
    stream = unique_name("revoked")
    _, subscription = event_api(SHARED_REDIS, {"subscribe": stream}, with_subscription=True)
    serve_current_catalog(gateway)
    before = blocked_readers(broker)

    async def scenario():
        async with ws_connect(url(gateway, "prices", subscription.primary_key)) as ws:
            await asyncio.sleep(0.3)
            during = blocked_readers(broker) - before
            await asyncio.to_thread(services.suspend_subscription, subscription=subscription)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                code = closed.rcvd.code, closed.rcvd.reason
        for _ in range(100):  # the feed's XREAD is cancelled once its last connection left
            if blocked_readers(broker) - before == 0:
                break
            await asyncio.sleep(0.1)
        return during, code, blocked_readers(broker) - before

    during, code, after = run(scenario())
    assert during == 1
    assert code == (1008, "subscription suspended")
    assert after == 0


def test_handshake_and_message_policies_apply_to_an_event_source(gateway, broker):
    """A set-variable in the onHandshake policy feeds the subscribe expression; an outbound
    limit-message-size stops an event too big and closes the client as for a backend message."""
    prefix = unique_name("tenant")
    _, key = event_api(
        SHARED_REDIS,
        {"subscribe": f'@("{prefix}." + context.Variables["tenant"])', "allow": [f"{prefix}.*"]},
    )
    policy = (
        "<policies><inbound><base/>"
        '<set-variable name="tenant" value="@(context.Request.Headers.GetValueOrDefault('
        '&quot;X-Tenant&quot;, &quot;none&quot;))"/>'
        "</inbound><on-message><inbound><base/></inbound><outbound><base/>"
        '<limit-message-size max-bytes="120"/></outbound></on-message></policies>'
    )
    services.update_api(api=Api.objects.get(url_suffix="prices"), policy_xml=policy)
    serve_current_catalog(gateway)

    async def scenario():
        headers = {"X-Tenant": "acme"}
        async with ws_connect(url(gateway, "prices", key), additional_headers=headers) as ws:
            await asyncio.sleep(0.2)
            broker.xadd(f"{prefix}.other", {"n": "not mine"})
            broker.xadd(f"{prefix}.acme", {"n": "1"})
            first = await receive(ws, 1)
            broker.xadd(f"{prefix}.acme", {"n": "x" * 200})
            after = []
            try:
                while True:
                    after.append(await asyncio.wait_for(ws.recv(), 10))
            except ConnectionClosed as closed:
                return first, after, closed.rcvd.code

    first, after, code = run(scenario())
    assert first[0]["subject"] == f"{prefix}.acme" and first[0]["data"] == {"n": "1"}
    assert after == []  # the oversized event never reached the client
    assert code == 1001  # as for a backend's oversized message: 1009 to the sender, 1001 here
