"""NATS JetStream as an event source: an ordered push consumer per followed subject, stream
sequences as ids, direct message reads to replay, JetStream publish for client messages.

One connection per broker URL and process, without reconnecting: when it is lost, every feed
on it ends (its clients are closed 1012 and resume with their last sequence); the next
handshake connects again.
"""

import asyncio
import logging

import nats
from nats.errors import AuthorizationError
from nats.errors import Error as NatsError
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from gateway.sources.buffer import FollowBuffer
from gateway.sources.credentials import BrokerAddress
from gateway.sources.events import BadEventId, BrokerUnavailable, Event, decode_payload

log = logging.getLogger("portico.gateway")

_LOST = object()
AUTH_REFUSED = "Authorization Violation"  # the server's -ERR for refused credentials


def _event(subject: str, sequence: int, data: bytes) -> Event:
    decoded, raw = decode_payload(data or b"")
    return Event(str(sequence), sequence, subject, decoded, raw)


class NatsJetStream:
    resumable = True

    def __init__(self, address: BrokerAddress, *, timeout: float) -> None:
        self.url = address.url
        # Beside the URL (which holds none): user and password, or a token.
        self.credentials = {
            k: v
            for k, v in (
                ("user", address.username),
                ("password", address.password),
                ("token", address.token),
            )
            if v is not None
        }
        self.timeout = timeout
        self.nc = None
        self.lock = asyncio.Lock()
        self.followers: set[FollowBuffer] = set()
        self.streams: dict[str, str] = {}  # subject -> the stream that holds it

    def parse_id(self, text: str) -> int:
        text = text.strip()
        if not text.isdigit() or len(text) > 20:
            raise BadEventId("a JetStream id is a stream sequence number")
        return int(text)

    async def _client(self):
        async with self.lock:
            if self.nc is None or self.nc.is_closed:
                try:
                    self.nc = await nats.connect(
                        self.url,
                        connect_timeout=self.timeout,
                        allow_reconnect=False,
                        max_reconnect_attempts=0,
                        disconnected_cb=self._disconnected,
                        error_cb=self._error,
                        **self.credentials,
                    )
                except (NatsError, OSError, TimeoutError) as exc:
                    # nats-py raises a plain Error with the server's -ERR text while connecting.
                    refused = isinstance(exc, AuthorizationError) or AUTH_REFUSED in str(exc)
                    text = str(exc) or type(exc).__name__
                    text = text if text.startswith("nats:") else f"nats: {text}"
                    raise BrokerUnavailable(text, auth=refused) from None
            return self.nc

    async def _disconnected(self) -> None:
        self.nc = None
        self.streams.clear()
        for queue in tuple(self.followers):
            queue.put(_LOST)

    async def _error(self, exc) -> None:
        log.debug("nats event source: %s", exc)

    async def _stream_of(self, js, name: str) -> str:
        stream = self.streams.get(name)
        if stream is None:
            try:
                stream = await js.find_stream_name_by_subject(name)
            except NotFoundError:
                raise BrokerUnavailable(f"nats: no JetStream stream holds {name}") from None
            self.streams[name] = stream
        return stream

    async def subscribe(self, name: str):
        """An ordered consumer delivering what is published from now on."""
        queue = FollowBuffer()

        async def deliver(msg) -> None:  # never waits: the NATS client's own queue stays short
            queue.put(_event(msg.subject, msg.metadata.sequence.stream, msg.data))

        try:
            async with asyncio.timeout(self.timeout):
                js = (await self._client()).jetstream(timeout=self.timeout)
                await self._stream_of(js, name)
                sub = await js.subscribe(
                    name, cb=deliver, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
                )
        except TimeoutError:
            raise BrokerUnavailable("nats did not answer in time", timeout=True) from None
        except NatsError as exc:
            raise BrokerUnavailable(f"nats: {exc}") from None
        self.followers.add(queue)
        return self._follow(queue, sub)

    async def _follow(self, queue: FollowBuffer, sub):
        try:
            while True:
                event = await queue.get()
                if event is _LOST:
                    raise BrokerUnavailable("nats connection lost")
                yield event
        finally:
            self.followers.discard(queue)
            try:
                await sub.unsubscribe()
            except (NatsError, OSError):
                pass  # the connection is gone: so is the consumer

    async def replay(self, name: str, after: int, count: int) -> list[Event]:
        """Up to `count` messages of `name` after sequence `after`, oldest first."""
        events: list[Event] = []
        try:
            async with asyncio.timeout(self.timeout * 4):
                js = (await self._client()).jetstream(timeout=self.timeout)
                stream = await self._stream_of(js, name)
                seq = after + 1
                while len(events) < count:
                    try:
                        msg = await js.get_msg(stream, seq, subject=name, next=True)
                    except NotFoundError:
                        break
                    events.append(_event(msg.subject, msg.seq, msg.data))
                    seq = msg.seq + 1
        except TimeoutError:
            raise BrokerUnavailable("nats did not answer in time", timeout=True) from None
        except NatsError as exc:
            raise BrokerUnavailable(f"nats: {exc}") from None
        return events

    async def publish(self, name: str, payload: str | bytes) -> None:
        data = payload.encode() if type(payload) is str else payload
        try:
            async with asyncio.timeout(self.timeout):
                js = (await self._client()).jetstream(timeout=self.timeout)
                await js.publish(name, data)
        except TimeoutError:
            raise BrokerUnavailable("nats did not answer in time", timeout=True) from None
        except NatsError as exc:
            raise BrokerUnavailable(f"nats: {exc}") from None

    async def close(self) -> None:
        nc, self.nc = self.nc, None
        if nc is not None and not nc.is_closed:
            try:
                await nc.close()
            except (NatsError, OSError):
                log.debug("closing the nats event source failed", exc_info=True)
