"""One broker subscription per (process, broker, name), shared by every connection reading it.

`SourceHub` (one per process, in `GatewayState`) keeps a broker client per address (URL and
credentials) and a `Feed` per followed name. A feed's task reads the broker and offers each
event to its connections' legs; offering never waits (each leg has its own bounded queue), so a
slow client never slows the feed or the other clients. The last leg to leave ends the
subscription. When the broker is lost, every leg of the feed is closed 1012 (try again:
reconnect with the last id seen).
"""

import asyncio
import logging
from collections.abc import Callable

from gateway.catalog.eventsource import MQTT, NATS, REDIS, backend_kind
from gateway.sources.credentials import BrokerAddress
from gateway.sources.events import Broker, BrokerUnavailable, Dropped

log = logging.getLogger("portico.gateway")

SERVICE_RESTART = 1012  # the broker was lost: the client may reconnect and resume


def make_broker(address: BrokerAddress, *, timeout: float) -> Broker:
    """The broker client for the address's kind (the broker modules are imported when first
    used)."""
    kind = backend_kind(address.url)
    if kind == REDIS:
        from gateway.sources.redis_streams import RedisStreams

        return RedisStreams(address, timeout=timeout)
    if kind == NATS:
        from gateway.sources.nats_jetstream import NatsJetStream

        return NatsJetStream(address, timeout=timeout)
    if kind == MQTT:
        from gateway.sources.mqtt import MqttTopics

        return MqttTopics(address, timeout=timeout)
    raise ValueError(f"not an event source: {kind}")


class Feed:
    """One broker subscription and the legs it feeds."""

    def __init__(self, hub: "SourceHub", key: tuple, broker: Broker, name: str) -> None:
        self.hub, self.key, self.broker, self.name = hub, key, broker, name
        self.legs: set = set()
        self.task: asyncio.Task | None = None
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        try:
            events = await self.broker.subscribe(self.name)
        except BaseException as exc:
            self.hub._forget(self)
            if not isinstance(exc, BrokerUnavailable):  # e.g. the first client went away
                exc = BrokerUnavailable(f"subscribing failed: {type(exc).__name__}")
            self.ready.set_exception(exc)  # the other connections waiting on it are refused
            self.ready.exception()  # retrieved here: every waiter raises it anyway
            raise
        self.ready.set_result(None)
        self.task = asyncio.get_running_loop().create_task(self._pump(events))

    async def _pump(self, events) -> None:
        try:
            async for event in events:
                if type(event) is Dropped:  # the broker client's buffer lost them for all
                    for leg in tuple(self.legs):
                        leg.missed(event.count)
                    continue
                for leg in tuple(self.legs):
                    leg.offer(event)
        except asyncio.CancelledError:
            raise
        except BrokerUnavailable as exc:
            log.warning("event source lost: %s (%d connection(s) closed)", exc, len(self.legs))
        except Exception:
            log.exception("event source feed failed (%d connection(s) closed)", len(self.legs))
        finally:
            self.hub._forget(self)
            await _aclose(events)
        for leg in tuple(self.legs):
            leg.fail(SERVICE_RESTART, "event source lost; reconnect with Last-Event-ID")
        self.legs.clear()

    def remove(self, leg) -> None:
        self.legs.discard(leg)
        if not self.legs:
            self.hub._forget(self)
            if self.task is not None:
                self.task.cancel()


async def _aclose(events) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # noqa: BLE001 - the subscription is being dropped either way
            log.debug("closing an event source subscription failed", exc_info=True)


class SourceHub:
    """The process's broker clients and feeds; built lazily, on the connections' event loop."""

    def __init__(self, *, timeout: float = 5.0, make: Callable = make_broker) -> None:
        self.timeout = timeout
        self.make = make
        # By address: the URL and its credentials, so a changed password opens a new client.
        self.brokers: dict[BrokerAddress, Broker] = {}
        self.feeds: dict[tuple, Feed] = {}
        self.closing: set[asyncio.Task] = set()

    def broker(self, address: BrokerAddress) -> Broker:
        broker = self.brokers.get(address)
        if broker is None:
            self._retire(address.url)
            broker = self.brokers[address] = self.make(address, timeout=self.timeout)
        return broker

    def _retire(self, url: str) -> None:
        """Close the clients of `url` under other credentials that no feed reads any more (the
        credentials changed); feeds still open keep theirs until their last client leaves."""
        reading = {feed.key[0] for feed in self.feeds.values()}
        for address in [a for a in self.brokers if a.url == url and a not in reading]:
            task = asyncio.get_running_loop().create_task(self.brokers.pop(address).close())
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)

    async def join(self, address: BrokerAddress, name: str, leg) -> Feed:
        """Add `leg` to the feed of (`address`, `name`), subscribing first if there is none;
        raise BrokerUnavailable when the broker cannot be subscribed to."""
        key = (address, name)
        feed = self.feeds.get(key)
        if feed is None:
            feed = self.feeds[key] = Feed(self, key, self.broker(address), name)
            feed.legs.add(leg)
            await feed.start()
            return feed
        feed.legs.add(leg)
        try:
            await asyncio.shield(feed.ready)
        except BaseException:
            feed.legs.discard(leg)
            raise
        return feed

    def _forget(self, feed: Feed) -> None:
        if self.feeds.get(feed.key) is feed:
            del self.feeds[feed.key]

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            if feed.task is not None:
                feed.task.cancel()
        self.feeds.clear()
        for broker in self.brokers.values():
            await broker.close()
        self.brokers.clear()
