"""Models of the connection control plane: live connections, sends, broadcasts, API tokens."""

from dataclasses import dataclass
from datetime import datetime

from portico_client.model import Model


@dataclass
class LiveConnection(Model):
    """One open connection, as its gateway process last reported it (never the key)."""

    id: str
    gateway: str
    node: str
    worker: str
    api: str
    product: str | None
    subscription: int | None
    subscription_name: str | None
    client_ip: str
    user_agent: str
    opened_at: datetime
    messages_up: int
    bytes_up: int
    messages_down: int
    bytes_down: int
    counted_at: datetime | None
    closing: bool
    tags: dict[str, str]


@dataclass
class BroadcastResult(Model):
    """How many connections matched the selector, took the message, and could not."""

    matched: int
    delivered: int
    failed: int


@dataclass
class SendResult(Model):
    """What became of one message sent to a connection ("delivered")."""

    id: str
    outcome: str


@dataclass
class ApiToken(Model):
    """An API-scoped token: `token` (the secret) only in the answer that created it."""

    id: int
    name: str
    token_prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    token: str | None = None
