"""Messages from the control plane to this process's live connections: the door and its listeners.

`Mailbox.handle(request)` hands one message to each named connection's relay (`deliver`) and
says how each ended (gateway.catalog.delivery). Requests reach it over Redis pub/sub on the
process's own channel where REDIS_URL is set (`RedisListener`, answers published on the
request's reply channel), and by a function call when the control plane runs in this same
process (the demo: `local_mailboxes`). Nothing here runs per relayed message: only per message
the control plane sends, and every queue is bounded (requests in flight, the relays' buffers).
"""

import asyncio
import logging
import os
from functools import cache

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.catalog.delivery import (
    FULL,
    GONE,
    BadDelivery,
    decode_request,
    encode_answer,
    process_channel,
)
from gateway.relay.tunnel import BUSY

log = logging.getLogger("portico.gateway")

MAX_REQUESTS_IN_FLIGHT = 64  # more at once and a request is answered "full" for every connection
BUSY_TRIES = 50  # a tunnel whose backend is mid-message: tried again every BUSY_WAIT seconds
BUSY_WAIT = 0.002
RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # reconnecting to Redis


@cache
def local_mailboxes() -> dict[str, tuple[asyncio.AbstractEventLoop, "Mailbox"]]:
    """The mailboxes of the gateway running in this process, by channel: the demo's control
    plane (same process, another thread) calls them directly instead of through Redis."""
    return {}


class Mailbox:
    def __init__(self, live, *, gateway: str, node_id) -> None:
        self.live = live  # gateway.node.revocation.LiveConnections
        self.gateway = gateway
        self.node_id = node_id  # callable, as the reporter's
        self.in_flight = 0

    def channel(self) -> str:
        """This process's channel: gateway, node and worker as its live report names them."""
        return process_channel(self.gateway, self.node_id()[:100], str(os.getpid()))

    async def handle(self, request: dict) -> dict[str, str]:
        """Deliver `request` (decoded) to the connections it names: {connection id: outcome}."""
        if self.in_flight >= MAX_REQUESTS_IN_FLIGHT:
            return dict.fromkeys(request["connections"], FULL)
        self.in_flight += 1
        try:
            return await self._deliver_all(request)
        finally:
            self.in_flight -= 1

    async def _deliver_all(self, request: dict) -> dict[str, str]:
        text, data = request["text"], request["data"]
        results: dict[str, str] = {}
        waiting: dict[str, object] = {}  # framed relays' sends, awaited together
        busy: list[tuple[str, object]] = []
        for connection_id in request["connections"]:
            relay = self.live.relay_of(connection_id)
            if relay is None:
                results[connection_id] = GONE
                continue
            outcome = relay.deliver(text, data)
            if outcome == BUSY:
                busy.append((connection_id, relay))
            elif isinstance(outcome, str):
                results[connection_id] = outcome
            else:
                waiting[connection_id] = outcome
        if waiting:
            outcomes = await asyncio.gather(*waiting.values(), return_exceptions=True)
            for connection_id, outcome in zip(waiting, outcomes, strict=True):
                results[connection_id] = outcome if isinstance(outcome, str) else GONE
        for _ in range(BUSY_TRIES):
            if not busy:
                break
            await asyncio.sleep(BUSY_WAIT)
            still = []
            for connection_id, relay in busy:
                outcome = relay.deliver(text, data)
                if outcome == BUSY:
                    still.append((connection_id, relay))
                else:
                    results[connection_id] = outcome
            busy = still
        for connection_id, _ in busy:
            results[connection_id] = FULL  # the backend's message did not end: not queued
        return results

    def start_local(self) -> None:
        local_mailboxes()[self.channel()] = (asyncio.get_running_loop(), self)

    def stop_local(self) -> None:
        local_mailboxes().pop(self.channel(), None)


class RedisListener:
    """Subscribes to the process's channel and answers each request on its reply channel."""

    def __init__(self, mailbox: Mailbox, url: str) -> None:
        self.mailbox = mailbox
        self.url = url
        self._task: asyncio.Task | None = None
        self._handling: set[asyncio.Task] = set()
        self.subscribed = asyncio.Event()  # for tests and the status: listening now

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        failures = 0
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2.0)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    channel = self.mailbox.channel()
                    await pubsub.subscribe(channel)
                    self.subscribed.set()
                    if failures:
                        log.info("messages to connections: listening on Redis again")
                    failures = 0
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._spawn(client, message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                if not failures:
                    log.warning(
                        "messages to connections: Redis unavailable (%s); the control plane "
                        "answers 503 until it is back",
                        type(error).__name__,
                    )
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
            finally:
                await client.aclose()

    def _spawn(self, client, raw: bytes) -> None:
        try:
            request = decode_request(raw)
        except BadDelivery as error:
            log.warning("messages to connections: ignored a malformed request (%s)", error)
            return
        task = asyncio.get_running_loop().create_task(self._answer(client, request))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _answer(self, client, request: dict) -> None:
        results = await self.mailbox.handle(request)
        try:
            await client.publish(request["reply"], encode_answer(request["id"], results))
        except (RedisError, OSError) as error:
            log.warning("messages to connections: answer not sent (%s)", type(error).__name__)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for task in self._handling:
            task.cancel()
