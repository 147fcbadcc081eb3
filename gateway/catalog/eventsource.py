"""An API's event source in the contract: the backend kind its URL names and its `source` object.

An API's backend is a WebSocket URL or an event broker (Redis Streams, NATS JetStream, MQTT).
The broker URL stays in `backend_url`; the rest (what to subscribe to, which names are allowed,
where client messages go, how messages are framed) is the `source` object, read and checked
here once for both planes: the control plane when a publisher saves it, the gateway when a
catalog arrives. No Django, no I/O.
"""

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

WEBSOCKET = "websocket"
REDIS = "redis"
NATS = "nats"
MQTT = "mqtt"
# The backend kind each URL scheme names.
KIND_OF_SCHEME = {
    "ws": WEBSOCKET,
    "wss": WEBSOCKET,
    "redis": REDIS,
    "rediss": REDIS,
    "nats": NATS,
    "mqtt": MQTT,
    "mqtts": MQTT,
}
EVENT_SOURCE_KINDS = (REDIS, NATS, MQTT)
DROP_OLDEST = "drop-oldest"
CLOSE = "close"
OVERFLOW_ACTIONS = (DROP_OLDEST, CLOSE)
DEFAULT_QUEUE = 256  # messages waiting for one client before its overflow action
MAX_QUEUE = 10_000
MAX_NAME = 1024  # stream/subject/topic name length
MAX_PATTERNS = 32
SOURCE_KEYS = ("subscribe", "allow", "publish", "envelope", "overflow", "queue")


def backend_kind(url: str) -> str:
    """`websocket`, `redis`, `nats` or `mqtt` from the URL's scheme (`websocket` if unknown)."""
    scheme = url.partition("://")[0].lower() if "://" in url else urlsplit(url).scheme.lower()
    return KIND_OF_SCHEME.get(scheme, WEBSOCKET)


@dataclass(frozen=True, slots=True)
class EventSource:
    """What a connection to an event-source API subscribes to, and how messages are framed."""

    subscribe: str  # a name, or an `@(...)` text expression evaluated at the handshake
    allow: tuple[str, ...] = ()  # patterns the evaluated name must match (empty: only literal)
    publish: str | None = None  # where client messages go (None: client messages are refused)
    envelope: bool = True  # {"id", "subject", "data"} JSON, or the raw payload
    overflow: str = DROP_OLDEST  # when a client's queue is full: drop its oldest, or close 1008
    queue: int = DEFAULT_QUEUE  # most messages waiting for one client


class SourceError(ValueError):
    """A `source` object the catalog cannot take: `field` names the key (`source.allow[1]`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def is_expression(value: str) -> bool:
    return value.startswith("@(") and value.endswith(")")


def read_source(kind: str, data) -> EventSource | None:
    """The `EventSource` of a backend of `kind` from its JSON `data`, or raise SourceError.

    A WebSocket backend has none (`data` must be empty); an event source needs `subscribe`.
    The expression in `subscribe` is checked by the caller (`gateway.policies`)."""
    if kind == WEBSOCKET:
        if data:
            raise SourceError("source", "only an event-source backend (redis, nats, mqtt) has one")
        return None
    if not isinstance(data, dict) or not data:
        raise SourceError("source.subscribe", "an event-source backend needs what to subscribe to")
    unknown = sorted(set(data) - set(SOURCE_KEYS))
    if unknown:
        raise SourceError(f"source.{unknown[0]}", f"unknown key; use {', '.join(SOURCE_KEYS)}")
    subscribe = data.get("subscribe")
    if not isinstance(subscribe, str) or not subscribe.strip():
        raise SourceError("source.subscribe", "enter a name or an @(...) expression")
    subscribe = subscribe.strip()
    if not is_expression(subscribe):
        _check_name(kind, subscribe, "source.subscribe", pattern=kind != REDIS)
    allow = data.get("allow") or []
    if not isinstance(allow, list) or not all(isinstance(p, str) and p for p in allow):
        raise SourceError("source.allow", "a list of non-empty patterns")
    if len(allow) > MAX_PATTERNS:
        raise SourceError("source.allow", f"at most {MAX_PATTERNS} patterns")
    for index, pattern in enumerate(allow):
        _check_name(kind, pattern, f"source.allow[{index}]", pattern=True)
    if is_expression(subscribe) and not allow:
        raise SourceError(
            "source.allow", "an expression needs the patterns its value must match (e.g. prices.*)"
        )
    publish = data.get("publish")
    if publish is not None:
        if not isinstance(publish, str) or not publish.strip():
            raise SourceError("source.publish", "a name, or null for no publishing")
        publish = publish.strip()
        _check_name(kind, publish, "source.publish", pattern=False)
    envelope = data.get("envelope", True)
    if not isinstance(envelope, bool):
        raise SourceError("source.envelope", "true or false")
    overflow = data.get("overflow", DROP_OLDEST)
    if overflow not in OVERFLOW_ACTIONS:
        raise SourceError("source.overflow", f"one of {', '.join(OVERFLOW_ACTIONS)}")
    queue = data.get("queue", DEFAULT_QUEUE)
    if type(queue) is not int or not 1 <= queue <= MAX_QUEUE:
        raise SourceError("source.queue", f"a whole number from 1 to {MAX_QUEUE}")
    return EventSource(subscribe, tuple(allow), publish, envelope, overflow, queue)


def source_to_json(source: EventSource | None) -> dict:
    if source is None:
        return {}
    return {
        "subscribe": source.subscribe,
        "allow": list(source.allow),
        "publish": source.publish,
        "envelope": source.envelope,
        "overflow": source.overflow,
        "queue": source.queue,
    }


_NATS_TOKEN = re.compile(r"^[^\s.*>]+$")


def _check_name(kind: str, name: str, field: str, *, pattern: bool) -> None:
    if len(name) > MAX_NAME:
        raise SourceError(field, f"at most {MAX_NAME} characters")
    if any(c.isspace() or not c.isprintable() for c in name):
        raise SourceError(field, "no spaces or control characters")
    if kind == NATS:
        tokens = name.split(".")
        for i, token in enumerate(tokens):
            wildcard = pattern and (token == "*" or (token == ">" and i == len(tokens) - 1))
            if not wildcard and not _NATS_TOKEN.match(token):
                raise SourceError(
                    field,
                    "dot-separated tokens"
                    + (", '*' for one token, '>' for the rest" if pattern else ", no wildcards"),
                )
    elif kind == MQTT:
        if "\0" in name:
            raise SourceError(field, "no NUL character")
        levels = name.split("/")
        for i, level in enumerate(levels):
            if ("+" in level and level != "+") or ("#" in level and level != "#"):
                raise SourceError(field, "'+' and '#' stand alone in a level")
            if level == "#" and i != len(levels) - 1:
                raise SourceError(field, "'#' only as the last level")
            if not pattern and level in ("+", "#"):
                raise SourceError(field, "a topic to publish to has no wildcards")


def name_allowed(kind: str, name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a subscribed name matches one of the API's `allow` patterns."""
    return any(_matches(kind, name, pattern) for pattern in patterns)


def _matches(kind: str, name: str, pattern: str) -> bool:
    if kind == REDIS:
        return fnmatchcase(name, pattern)
    separator = "." if kind == NATS else "/"
    many, one = (">", "*") if kind == NATS else ("#", "+")
    names, parts = name.split(separator), pattern.split(separator)
    for i, part in enumerate(parts):
        if part == many:
            return len(names) > i or (kind == MQTT and len(names) == i)
        if i >= len(names):
            return False
        if part != one and part != names[i]:
            return False
    return len(names) == len(parts)


def concrete_name(kind: str, name: str) -> str | None:
    """Why an evaluated name cannot be subscribed to (a wildcard slipped in), or None."""
    if not name:
        return "the subscribe expression gave an empty name"
    if len(name) > MAX_NAME:
        return "the subscribed name is too long"
    if kind == NATS and not all(_NATS_TOKEN.match(t) for t in name.split(".")):
        return "the subscribed subject is not a plain subject"
    if kind == MQTT and any(level in ("+", "#") for level in name.split("/")):
        return "the subscribed topic holds a wildcard"
    return None
