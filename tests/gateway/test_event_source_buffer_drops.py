"""The buffer between an MQTT or NATS client and its feed (1,024 events) never makes the client
wait: when it is full its oldest events are lost, and the loss is counted, in order, for every
connection of the feed, with the events its own overflow dropped (the metric and the log).
Real brokers (the shared Mosquitto and NATS), the real broker modules, feed and leg."""

import asyncio
import time
import uuid

import aiomqtt
import nats

from gateway.catalog.eventsource import EventSource
from gateway.sources.buffer import CAPACITY
from gateway.sources.credentials import BrokerAddress
from gateway.sources.events import Event
from gateway.sources.feeds import Feed, SourceHub
from gateway.sources.leg import SourceLeg
from gateway.sources.mqtt import MqttTopics
from gateway.sources.nats_jetstream import NatsJetStream
from tests.support.brokers import SHARED_MQTT, SHARED_NATS, unique_name
from tests.support.client import run

SENT = CAPACITY + 76  # more than the buffer holds


async def buffered(broker_buffer, count: int) -> None:
    """Wait (at most 15 s) until the client has taken all `count` events from the broker."""
    deadline = time.monotonic() + 15
    while broker_buffer.queue.qsize() + broker_buffer.dropped < count:
        assert time.monotonic() < deadline, "the broker did not deliver every event"
        await asyncio.sleep(0.05)


async def feed_them_to_a_leg(broker, name: str, events) -> SourceLeg:
    """The real feed's pump over the full buffer, into one connection's leg (queue big enough
    that its own overflow drops nothing)."""
    leg = SourceLeg(broker, name, EventSource(subscribe=name, queue=10_000))
    feed = Feed(SourceHub(), (BrokerAddress("test://"), name), broker, name)
    feed.legs.add(leg)
    pump = asyncio.get_running_loop().create_task(feed._pump(events))
    deadline = time.monotonic() + 10
    while len(leg.queue) < CAPACITY:
        assert time.monotonic() < deadline, "the feed did not pass the events on"
        await asyncio.sleep(0.05)
    pump.cancel()
    return leg


def test_a_full_mqtt_buffer_loses_its_oldest_messages_and_every_connection_counts_them():
    topic = unique_name("drops", "/")
    host, port = SHARED_MQTT.split("://")[1].split(":")

    async def scenario():
        broker = MqttTopics(BrokerAddress(SHARED_MQTT), timeout=5)
        try:
            events = await broker.subscribe(topic)  # buffered from now on, read by nobody yet
            async with aiomqtt.Client(host, int(port)) as publisher:
                for n in range(SENT):
                    await publisher.publish(topic, str(n).encode(), qos=1)
            await buffered(broker.topics[topic], SENT)
            return await feed_them_to_a_leg(broker, topic, events)
        finally:
            await broker.close()

    leg = run(scenario())
    assert leg.dropped == SENT - CAPACITY  # counted for the connection, as its overflow is
    assert [event.data for event in leg.queue] == list(range(SENT - CAPACITY, SENT))


def test_a_full_nats_buffer_loses_its_oldest_messages_and_every_connection_counts_them():
    prefix = unique_name("drops")
    stream = "D" + uuid.uuid4().hex[:12]

    async def scenario():
        nc = await nats.connect(SHARED_NATS, allow_reconnect=False)
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[f"{prefix}.>"])
        broker = NatsJetStream(BrokerAddress(SHARED_NATS), timeout=5)
        try:
            events = await broker.subscribe(f"{prefix}.ticks")
            (buffer,) = broker.followers
            for n in range(SENT):
                await js.publish(f"{prefix}.ticks", str(n).encode())
            await buffered(buffer, SENT)
            leg = await feed_them_to_a_leg(broker, f"{prefix}.ticks", events)
            return leg
        finally:
            await broker.close()
            await js.delete_stream(stream)
            await nc.close()

    leg = run(scenario())
    assert leg.dropped == SENT - CAPACITY  # counted for the connection, as its overflow is
    kept = [event.data for event in leg.queue]
    assert kept == list(range(SENT - CAPACITY, SENT))  # the newest, in order
    assert all(type(event) is Event for event in leg.queue)
