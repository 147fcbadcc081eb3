"""One event as it leaves a broker, and the interface every broker module offers the feeds.

An event carries its broker's id as text (what clients see and send back as `Last-Event-ID`)
and as an ordered key (Redis Streams ids as (ms, seq), JetStream sequences as integers), so that
a resumed connection can tell replayed events from live ones without a gap or a duplicate.
"""

import json
from dataclasses import dataclass
from typing import Any, Protocol


class BrokerUnavailable(Exception):
    """The broker cannot be reached or refused the request (the handshake answers 502/504);
    `auth`: it refused the gateway's credentials (the message never holds them)."""

    def __init__(self, message: str, *, timeout: bool = False, auth: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.auth = auth


@dataclass(slots=True)
class Dropped:
    """In a subscription's stream of events: `count` events the broker client's buffer lost
    here (it was full), so every connection of the feed missed them."""

    count: int


class BadEventId(ValueError):
    """A `Last-Event-ID` this broker's ids never look like (the handshake answers 400)."""


@dataclass(slots=True)
class Event:
    id: str  # the broker's id as text; "" where the broker has none (MQTT)
    key: Any  # ordered like the broker's ids; None where there is no order (MQTT)
    subject: str  # the stream, subject or topic it came from
    data: Any  # the payload as the envelope shows it: JSON decoded when it is JSON
    raw: str | bytes  # the payload as `envelope: false` sends it
    encoded: str | None = None  # the envelope's text, made once for every client of a feed

    def envelope(self) -> str:
        if self.encoded is None:
            self.encoded = json.dumps(
                {"id": self.id, "subject": self.subject, "data": self.data},
                ensure_ascii=False,
                separators=(",", ":"),
            )
        return self.encoded


def decode_payload(payload: bytes) -> tuple[Any, str | bytes]:
    """(data, raw) of a message body: text when it is UTF-8, JSON decoded when it is JSON."""
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        return payload.hex(), payload
    try:
        return json.loads(text), text
    except ValueError:
        return text, text


class Broker(Protocol):
    """What a feed and a resumed connection need of one broker (one client per process)."""

    resumable: bool  # whether `Last-Event-ID` means anything here

    def parse_id(self, text: str) -> Any: ...  # the ordered key, or raise BadEventId

    async def subscribe(self, name: str):
        """Subscribe to `name` from now on; raise BrokerUnavailable when that fails (the
        handshake refuses). Returns an async iterator of the events in order (with a `Dropped`
        where its buffer lost some), which raises BrokerUnavailable when the broker is lost
        later."""
        ...

    async def replay(self, name: str, after: Any, count: int) -> list[Event]: ...

    async def publish(self, name: str, payload: str | bytes) -> None: ...

    async def close(self) -> None: ...
