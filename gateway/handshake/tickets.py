"""Connect tickets at the handshake: check one in place of a key, and spend it exactly once.

The signature, expiry, API and Origin are checked from the snapshot alone (the codec in
`gateway.catalog.tickets`); the "first use" mark is an atomic SET NX with expiry in the
shared counter store (Redis), so a ticket is spent once across every worker and node, or in
this process's memory when counters are per process (one worker).
The mark lives as long as the ticket could still be valid.
"""

import asyncio
import time
import weakref
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.catalog import tickets
from gateway.catalog.contract import SubscriptionEntry
from gateway.catalog.snapshot import Route, Snapshot
from gateway.handshake import keys
from gateway.policies.store_deadline import longest_wait, store_deadline
from gateway.refusal import Refusal

QUERY_PARAM = tickets.QUERY_PARAM
INVALID_TICKET_MESSAGE = "Access denied due to an invalid connect ticket: {reason}."
MEMORY_MARKS_MAX = 200_000  # spent tickets remembered at once in one process (bounded)


def read_ticket(query: list[tuple[str, str]]) -> str | None:
    for name, value in query:
        if name == QUERY_PARAM and value:
            return value
    return None


def refuse(reason: str) -> Refusal:
    return Refusal(401, INVALID_TICKET_MESSAGE.format(reason=reason), reason=reason)


def check_ticket(
    snapshot: Snapshot, route: Route, text: str, headers: dict[str, str], now: datetime
) -> tuple[SubscriptionEntry, tickets.Ticket]:
    """The subscription a ticket proves for `route` (not yet spent), or a 401/403 Refusal."""
    try:
        ticket = tickets.verify(snapshot.key_hash_secret, text, now=now.timestamp())
    except tickets.TicketError as exc:
        raise refuse(str(exc)) from None
    if ticket.api_id != route.api.id:
        raise refuse("ticket is for another API")
    if ticket.origin and headers.get("origin", "") != ticket.origin:
        raise refuse("ticket is bound to another Origin")
    subscription = snapshot.subscriptions_by_id.get(ticket.subscription_id)
    if subscription is None:
        raise refuse("ticket's subscription is not active")
    if not keys.covers(subscription, route):
        raise refuse("ticket's subscription does not cover the API")
    keys.check_state(snapshot, subscription, now)
    return subscription, ticket


class MemoryMarks:
    """Spent nonces in this process, each kept until its ticket would have expired anyway."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    async def first_use(self, nonce: str, expires_at: float) -> bool:
        now = time.time()
        if len(self._spent) >= MEMORY_MARKS_MAX:
            self._spent = {n: e for n, e in self._spent.items() if e > now}
            if len(self._spent) >= MEMORY_MARKS_MAX:
                raise Refusal(503, "Too many connect tickets at once. Try again shortly.")
        if self._spent.get(nonce, 0) > now:
            return False
        self._spent[nonce] = expires_at
        return True


class RedisMarks:
    """Spent nonces in the shared Redis: SET NX PX, one client per event loop."""

    def __init__(self, uri: str, *, prefix: str, timeout: float) -> None:
        self.uri = uri.removeprefix("async+")
        self.prefix = prefix
        self.timeout = timeout
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            wait = longest_wait(self.timeout)  # a backstop: store_deadline bounds each call
            client = aioredis.Redis.from_url(
                self.uri, socket_connect_timeout=wait, socket_timeout=wait
            )
            self._clients[loop] = client
        return client

    async def first_use(self, nonce: str, expires_at: float) -> bool:
        ttl_ms = max(1000, int((expires_at - time.time()) * 1000) + 1000)
        try:
            async with store_deadline(self.timeout):
                return bool(
                    await self._client().set(
                        f"{self.prefix}:ticket:{nonce}", b"1", nx=True, px=ttl_ms
                    )
                )
        except (RedisError, OSError, TimeoutError):
            # Never let a ticket through unmarked: it could then be used twice.
            raise Refusal(
                503,
                "The gateway cannot check connect tickets right now. Try again shortly.",
                reason="ticket store unavailable",
            ) from None


def build_marks(config) -> MemoryMarks | RedisMarks:
    """Where spent tickets are marked: the shared Redis when counters are shared, else memory."""
    uri = config.limits_storage
    if uri.removeprefix("async+").startswith(("redis://", "rediss://")):
        return RedisMarks(
            uri, prefix=config.limits_key_prefix, timeout=config.counters_timeout_seconds
        )
    return MemoryMarks()


async def spend(marks: MemoryMarks | RedisMarks, ticket: tickets.Ticket) -> None:
    """Mark the ticket used; a second use anywhere answers 401."""
    if not await marks.first_use(ticket.nonce, ticket.expires_at):
        raise refuse("ticket already used")
