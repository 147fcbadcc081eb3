"""MQTT 3.1.1/5 as an event source (aiomqtt): one connection per broker URL and process, one
broker subscription per followed topic filter, QoS 1.

MQTT messages carry no id a client could resume from: `Last-Event-ID` is ignored, events have
an empty id, and a reconnecting client gets live messages only (docs/event-sources.md). When
the connection is lost, every feed on it ends (its clients are closed 1012); the next
handshake connects again.
"""

import asyncio
import logging
import ssl
from functools import cache
from urllib.parse import urlsplit

import aiomqtt

from gateway.sources.buffer import FollowBuffer
from gateway.sources.credentials import BrokerAddress
from gateway.sources.events import BrokerUnavailable, Event, decode_payload

log = logging.getLogger("portico.gateway")

INCOMING_LIMIT = 4096  # messages the MQTT client itself queues before the reader takes them
_LOST = object()
# CONNACK codes for refused credentials: MQTT 3.1.1 (4 bad user name or password, 5 not
# authorised) and MQTT 5 (134, 135).
CREDENTIALS_REFUSED = frozenset({4, 5, 134, 135})


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class MqttTopics:
    resumable = False

    def __init__(self, address: BrokerAddress, *, timeout: float) -> None:
        parts = urlsplit(address.url)
        self.username, self.password = address.username, address.password
        self.secure = parts.scheme.lower() == "mqtts"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (8883 if self.secure else 1883)
        self.timeout = timeout
        self.client: aiomqtt.Client | None = None
        self.reader: asyncio.Task | None = None
        self.lock = asyncio.Lock()
        self.topics: dict[str, FollowBuffer] = {}  # topic filter -> its feed's buffer

    def parse_id(self, text: str) -> None:
        return None  # nothing to resume from (never called: `resumable` is False)

    async def _connect(self) -> aiomqtt.Client:
        async with self.lock:
            if self.client is None:
                client = aiomqtt.Client(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    tls_context=_tls_context() if self.secure else None,
                    max_queued_incoming_messages=INCOMING_LIMIT,
                    username=self.username,
                    password=self.password,
                )
                try:
                    async with asyncio.timeout(self.timeout):
                        await client.__aenter__()
                except TimeoutError:
                    raise BrokerUnavailable("mqtt did not answer in time", timeout=True) from None
                except aiomqtt.MqttCodeError as exc:
                    refused = _reason_code(exc) in CREDENTIALS_REFUSED
                    raise BrokerUnavailable(f"mqtt: {exc}", auth=refused) from None
                except (aiomqtt.MqttError, OSError) as exc:
                    raise BrokerUnavailable(f"mqtt: {exc}") from None
                self.client = client
                self.reader = asyncio.get_running_loop().create_task(self._read(client))
            return self.client

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                topic = message.topic
                payload = message.payload
                if not isinstance(payload, bytes | bytearray):
                    payload = str(payload or "").encode()
                data, raw = decode_payload(bytes(payload))
                for pattern, queue in tuple(self.topics.items()):
                    if topic.matches(pattern):
                        queue.put(Event("", None, topic.value, data, raw))
        except aiomqtt.MqttError as exc:
            log.debug("mqtt event source connection ended: %s", exc)
        finally:
            if self.client is client:
                self.client = None
            for queue in tuple(self.topics.values()):
                queue.put(_LOST)
            self.topics.clear()

    async def subscribe(self, name: str):
        client = await self._connect()
        queue = FollowBuffer()
        self.topics[name] = queue
        try:
            await client.subscribe(name, qos=1, timeout=self.timeout)
        except (aiomqtt.MqttError, OSError) as exc:
            self.topics.pop(name, None)
            raise BrokerUnavailable(f"mqtt: {exc}") from None
        return self._follow(client, name, queue)

    async def _follow(self, client: aiomqtt.Client, name: str, queue: FollowBuffer):
        try:
            while True:
                event = await queue.get()
                if event is _LOST:
                    raise BrokerUnavailable("mqtt connection lost")
                yield event
        finally:
            if self.topics.get(name) is queue:
                del self.topics[name]
                if self.client is client:
                    try:
                        await client.unsubscribe(name, timeout=self.timeout)
                    except (aiomqtt.MqttError, OSError):
                        pass

    async def replay(self, name: str, after, count: int) -> list[Event]:
        return []  # MQTT keeps no history a client could ask for

    async def publish(self, name: str, payload: str | bytes) -> None:
        try:
            client = await self._connect()
            await client.publish(name, payload, qos=1, timeout=self.timeout)
        except (aiomqtt.MqttError, OSError) as exc:
            raise BrokerUnavailable(f"mqtt: {exc}") from None

    async def close(self) -> None:
        client, self.client = self.client, None
        if self.reader is not None:
            self.reader.cancel()
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except (aiomqtt.MqttError, OSError):
                log.debug("closing the mqtt event source failed", exc_info=True)


def _reason_code(exc: aiomqtt.MqttCodeError) -> int | None:
    rc = exc.rc
    value = getattr(rc, "value", rc)  # paho's ReasonCode (MQTT 5) or a plain int (3.1.1)
    return value if isinstance(value, int) else None
