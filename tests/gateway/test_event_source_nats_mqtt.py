"""APIs fed by NATS JetStream and MQTT, end to end: the real gateway (uvicorn), the real
brokers (the shared ones, or our own for the fault tests), real clients."""

import asyncio
import json

import aiomqtt
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.backend import free_port
from tests.support.brokers import SHARED_MQTT, SHARED_NATS, BrokerProcess, unique_name
from tests.support.client import refused, run, ws_connect
from tests.support.event_sources import JetStream, event_api, url
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


async def receive(ws, count: int) -> list:
    return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(count)]


async def nothing_more(ws) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), 0.5)
    except TimeoutError:
        return True
    return False


@pytest.fixture
def stream():
    made = JetStream(SHARED_NATS)
    yield made
    made.delete()


def test_nats_subjects_reach_every_client_and_a_resume_gets_the_rest_once(gateway, stream):
    _, key = event_api(SHARED_NATS, {"subscribe": f"{stream.prefix}.prices.>"})
    serve_current_catalog(gateway)

    async def scenario():
        await stream.connect()
        async with (
            ws_connect(url(gateway, "prices", key)) as one,
            ws_connect(url(gateway, "prices", key)) as two,
        ):
            seqs = [await stream.publish(f"prices.{s}", b'{"p": 1}') for s in ("btc", "eth")]
            await stream.publish("other", b"not subscribed")
            got = [await receive(one, 2), await receive(two, 2)]
            # Two connections, one JetStream consumer (one gateway process).
            consumers = (await stream.js.stream_info(stream.name)).state.consumer_count
        missed = [await stream.publish("prices.btc", str(n).encode()) for n in range(3)]
        headers = {"Last-Event-ID": str(seqs[-1])}
        async with ws_connect(url(gateway, "prices", key), additional_headers=headers) as ws:
            replayed = await receive(ws, 3)
            live = await stream.publish("prices.eth", b"live")
            after = await receive(ws, 1)
            quiet = await nothing_more(ws)
        await stream.nc.close()
        return seqs, got, consumers, missed, replayed, live, after, quiet

    seqs, got, consumers, missed, replayed, live, after, quiet = run(scenario())
    assert consumers == 1
    prefix = stream.prefix
    expected = [
        {"id": str(seqs[0]), "subject": f"{prefix}.prices.btc", "data": {"p": 1}},
        {"id": str(seqs[1]), "subject": f"{prefix}.prices.eth", "data": {"p": 1}},
    ]
    assert got == [expected, expected]
    assert [m["id"] for m in replayed] == [str(s) for s in missed]
    assert [m["data"] for m in replayed] == [0, 1, 2]  # JSON payloads decoded
    assert after == [{"id": str(live), "subject": f"{prefix}.prices.eth", "data": "live"}]
    assert quiet  # nothing twice


def test_nats_client_messages_are_published_to_the_stream(gateway, stream):
    source = {"subscribe": f"{stream.prefix}.out", "publish": f"{stream.prefix}.in"}
    _, key = event_api(SHARED_NATS, source)
    serve_current_catalog(gateway)

    async def scenario():
        async with ws_connect(url(gateway, "prices", key)) as ws:
            await ws.send("order 1")
            await asyncio.sleep(0.3)
        await stream.connect()
        msg = await stream.js.get_last_msg(stream.name, f"{stream.prefix}.in")
        await stream.nc.close()
        return msg.data

    assert run(scenario()) == b"order 1"


def test_nats_without_a_stream_for_the_subject_answers_502(gateway):
    _, key = event_api(SHARED_NATS, {"subscribe": unique_name("nostream")})
    serve_current_catalog(gateway)
    result = run(refused(url(gateway, "prices", key)))
    assert result.status == 502
    assert result.body["message"] == "The event source is unreachable."


def test_a_lost_nats_server_closes_1012_and_a_resume_misses_nothing(gateway, tmp_path):
    own = BrokerProcess("nats", tmp_path / "nats").start()
    try:
        stream = JetStream(own.url)
        _, key = event_api(own.url, {"subscribe": f"{stream.prefix}.ticks"})
        serve_current_catalog(gateway)

        async def before_loss():
            await stream.connect()
            async with ws_connect(url(gateway, "prices", key)) as ws:
                await stream.publish("ticks", b"1")
                first = await receive(ws, 1)
                await stream.nc.close()
                own.stop()
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    return first, closed.rcvd.code
            return first, None

        first, code = run(before_loss())
        assert code == 1012
        own.start()  # same port and store directory: the stream is still there

        async def after_restart():
            await stream.connect()
            missed = [await stream.publish("ticks", b"%d" % n) for n in (2, 3)]
            headers = {"Last-Event-ID": first[0]["id"]}
            async with ws_connect(url(gateway, "prices", key), additional_headers=headers) as ws:
                got = await receive(ws, 2)
                quiet = await nothing_more(ws)
            await stream.nc.close()
            return missed, got, quiet

        missed, got, quiet = run(after_restart())
        assert [m["id"] for m in got] == [str(s) for s in missed]
        assert quiet
    finally:
        own.stop()


def mqtt_host_port(broker_url: str) -> tuple[str, int]:
    host_port = broker_url.split("://")[1]
    host, port = host_port.split(":")
    return host, int(port)


def test_mqtt_topics_reach_every_client_and_client_messages_are_published(gateway):
    prefix = unique_name("ev26", "/")
    source = {"subscribe": f"{prefix}/sensors/+", "publish": f"{prefix}/commands"}
    _, key = event_api(SHARED_MQTT, source)
    serve_current_catalog(gateway)
    host, port = mqtt_host_port(SHARED_MQTT)

    async def scenario():
        async with aiomqtt.Client(host, port) as mqtt:
            await mqtt.subscribe(f"{prefix}/commands", qos=1)
            async with (
                ws_connect(url(gateway, "prices", key, "&last-event-id=ignored")) as one,
                ws_connect(url(gateway, "prices", key)) as two,
            ):
                await asyncio.sleep(0.3)  # the gateway's SUBSCRIBE reaches the broker
                await mqtt.publish(f"{prefix}/sensors/t1", b'{"c": 21.5}', qos=1)
                await mqtt.publish(f"{prefix}/other", b"not subscribed", qos=1)
                await mqtt.publish(f"{prefix}/sensors/t2", b"raw text", qos=1)
                got = [await receive(one, 2), await receive(two, 2)]
                await one.send("open the door")
                async with asyncio.timeout(10):
                    command = await anext(aiter(mqtt.messages))
            return got, command.payload

    got, command = run(scenario())
    expected = [
        {"id": "", "subject": f"{prefix}/sensors/t1", "data": {"c": 21.5}},
        {"id": "", "subject": f"{prefix}/sensors/t2", "data": "raw text"},
    ]
    assert got == [expected, expected]
    assert command == b"open the door"


def test_mqtt_broker_down_at_the_handshake_is_502_and_lost_later_is_1012(gateway, tmp_path):
    _, key = event_api(f"mqtt://127.0.0.1:{free_port()}", {"subscribe": "a/b"})
    own = BrokerProcess("mqtt", tmp_path / "mqtt").start()
    try:
        _, own_key = event_api(own.url, {"subscribe": "x/y"}, suffix="own")
        serve_current_catalog(gateway)
        result = run(refused(url(gateway, "prices", key)))
        assert result.status == 502

        async def lost():
            async with ws_connect(url(gateway, "own", own_key)) as ws:
                own.stop()
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    return closed.rcvd.code
            return None

        assert run(lost()) == 1012
    finally:
        own.stop()
