"""Redis Streams as an event source: XREAD for the live feed, XRANGE to replay, XADD to publish.

One `RedisStreams` per broker address (URL and credentials) and process; its connection pool
holds one connection per followed stream (a blocking XREAD) plus what replays and publishes
borrow for a moment.
"""

import asyncio
import json
import logging

import redis.asyncio as aioredis
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    NoPermissionError,
    RedisError,
    ResponseError,
)

from gateway.sources.credentials import BrokerAddress
from gateway.sources.events import BadEventId, BrokerUnavailable, Event, decode_payload

log = logging.getLogger("portico.gateway")

BLOCK_MS = 5_000  # one XREAD waits this long for new entries, then asks again
READ_COUNT = 512  # entries per XREAD at most
# A field of a published client message (XADD <stream> * data <message>).
PUBLISH_FIELD = "data"
# The broker refused the credentials (WRONGPASS, NOAUTH) or the ACL user may not do this.
REFUSED = (AuthenticationError, AuthorizationError, NoPermissionError)


def parse_stream_id(text: str) -> tuple[int, int]:
    """A stream id `ms-seq` (or `ms`) as an ordered key; BadEventId otherwise."""
    ms, sep, seq = text.strip().partition("-")
    if not ms.isdigit() or (sep and not seq.isdigit()) or len(text) > 41:
        raise BadEventId("a Redis stream id looks like 1700000000000-0")
    return int(ms), int(seq) if sep else 0


def _event(stream: str, entry_id: bytes, fields: dict) -> Event:
    text_id = entry_id.decode()
    data = {name.decode(errors="replace"): v.decode(errors="replace") for name, v in fields.items()}
    if len(data) == 1:  # one field: its value is the payload, as NATS and MQTT have one
        raw = decode_payload(next(iter(fields.values())))[1]
    else:  # the field map as a JSON object
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Event(text_id, parse_stream_id(text_id), stream, data, raw)


class RedisStreams:
    resumable = True

    def __init__(self, address: BrokerAddress, *, timeout: float) -> None:
        self.url = address.url
        self.timeout = timeout
        # Reads wait longer than one blocking XREAD (BLOCK_MS), so only a silent broker times out.
        # The credentials go beside the URL (which holds none): AUTH on every new connection.
        self.client = aioredis.Redis.from_url(
            address.url,
            username=address.username,
            password=address.password,
            socket_connect_timeout=timeout,
            socket_timeout=BLOCK_MS / 1000 + timeout,
        )

    def parse_id(self, text: str) -> tuple[int, int]:
        return parse_stream_id(text)

    async def subscribe(self, name: str):
        """Start after the stream's newest entry (or its beginning when it is empty)."""
        try:
            async with asyncio.timeout(self.timeout):
                newest = await self.client.xrevrange(name, count=1)
        except TimeoutError:
            raise BrokerUnavailable("redis did not answer in time", timeout=True) from None
        except REFUSED as exc:
            raise BrokerUnavailable(f"redis: {exc}", auth=True) from None
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"redis: {exc}") from None
        last = newest[0][0].decode() if newest else "0-0"
        return self._follow(name, last)

    async def _follow(self, name: str, last: str):
        client = self.client
        while True:
            try:
                found = await client.xread({name: last}, count=READ_COUNT, block=BLOCK_MS)
            except (RedisError, OSError) as exc:
                raise BrokerUnavailable(f"redis: {exc}") from None
            for _stream, entries in found or ():
                for entry_id, fields in entries:
                    event = _event(name, entry_id, fields)
                    last = event.id
                    yield event

    async def replay(self, name: str, after: tuple[int, int], count: int) -> list[Event]:
        """Up to `count` entries after `after`, oldest first."""
        start = f"({after[0]}-{after[1]}"  # exclusive range (Redis 6.2+)
        try:
            async with asyncio.timeout(self.timeout):
                entries = await self.client.xrange(name, min=start, max="+", count=count)
        except TimeoutError:
            raise BrokerUnavailable("redis did not answer in time", timeout=True) from None
        except REFUSED as exc:  # NOPERM is a ResponseError, not a bad id
            raise BrokerUnavailable(f"redis: {exc}", auth=True) from None
        except ResponseError as exc:
            raise BadEventId(str(exc)) from None
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"redis: {exc}") from None
        return [_event(name, entry_id, fields) for entry_id, fields in entries]

    async def publish(self, name: str, payload: str | bytes) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.xadd(name, {PUBLISH_FIELD: payload})
        except TimeoutError:
            raise BrokerUnavailable("redis did not answer in time", timeout=True) from None
        except REFUSED as exc:
            raise BrokerUnavailable(f"redis: {exc}", auth=True) from None
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"redis: {exc}") from None

    async def close(self) -> None:
        try:
            await self.client.aclose()
        except (RedisError, OSError):
            log.debug("closing the redis event source failed", exc_info=True)
