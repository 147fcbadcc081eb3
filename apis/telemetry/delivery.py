"""Messages to live connections, the control plane's side: one request per holding process.

The live list says which gateway process holds each connection (gateway, node, worker). A
process running in this same process (the demo) is called directly; any other is sent its
request over Redis pub/sub on its own channel where REDIS_URL is set (shared with the gateways
and nodes) and answers on a reply channel this call listens on. A process that does not listen
there (a self-hosted node without Redis) or any process while Redis is down gets it through its
control channel instead: with the answer to its next live report (apis.telemetry.control_channel),
about half a second later. A message no process took in time was never sent (UNREACHABLE).
"""

import asyncio
import concurrent.futures
import logging
import time
import uuid
from collections import defaultdict
from functools import cache

import redis
from django.conf import settings
from redis.exceptions import RedisError

from apis.telemetry import control_channel
from gateway.catalog.delivery import (
    BadDelivery,
    decode_answer,
    encode_request,
    process_channel,
    reply_channel,
)
from gateway.node.mailbox import local_mailboxes

log = logging.getLogger("portico.gateway")

ANSWER_SECONDS = 3.0  # a process that has not answered by then: its connections count as failed
# ... plus this per connection of a broadcast: a busy 2-core machine took over 3 s, now and then,
# to hand 5,000 messages over and answer (bench/messages.py)
ANSWER_SECONDS_PER_CONNECTION = 0.0002
UNREACHABLE = "unreachable"  # no process took it in time: nothing was sent
NO_ANSWER = "no_answer"  # taken, never answered within ANSWER_SECONDS: it may have arrived


@cache
def _redis(url: str) -> redis.Redis:
    """One client (a connection pool) per process: a send opens no new connection."""
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=ANSWER_SECONDS + 2)


def deliver(rows, *, text: str | None, data: bytes | None) -> dict[str, str]:
    """Send the message to every live connection in `rows` (LiveConnection, with `process`):
    {connection id: outcome of gateway.catalog.delivery, UNREACHABLE or NO_ANSWER}."""
    rows = list(rows)
    deadline = time.monotonic() + ANSWER_SECONDS + ANSWER_SECONDS_PER_CONNECTION * len(rows)
    by_process: dict[str, list] = defaultdict(list)
    for row in rows:
        process = row.process
        by_process[process_channel(process.gateway, process.node_id, process.worker)].append(row)
    local = local_mailboxes()
    remote = {channel: group for channel, group in by_process.items() if channel not in local}
    results: dict[str, str] = {}
    via_redis = _RedisRound(settings.REDIS_URL) if remote and settings.REDIS_URL else _NoRound()
    with via_redis:
        unheard = via_redis.publish(remote, text, data)  # the channels nobody listens on
        control = control_channel.Round()
        for channel in unheard:
            group = remote[channel]
            control.post(group[0].process, [row.connection_id for row in group], text, data)
        for channel, group in by_process.items():
            if channel in local:
                ids = [row.connection_id for row in group]
                results.update(_deliver_here(local[channel], ids, text, data))
        results.update(control_channel.wait(control, via_redis, deadline))
        results.update(via_redis.give_up(no_answer=NO_ANSWER))
        results.update(control.give_up(no_answer=NO_ANSWER, not_taken=UNREACHABLE))
    return results


def _deliver_here(entry, ids: list[str], text, data) -> dict[str, str]:
    loop, mailbox = entry
    request = {"id": "", "reply": "", "connections": ids, "text": text, "data": data}
    future = asyncio.run_coroutine_threadsafe(mailbox.handle(request), loop)
    try:
        return future.result(ANSWER_SECONDS)
    except concurrent.futures.TimeoutError:
        return dict.fromkeys(ids, NO_ANSWER)


class _NoRound:
    waiting: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def publish(self, remote: dict, text, data) -> list[str]:
        return list(remote)

    def poll(self, timeout: float) -> dict:
        return {}

    def give_up(self, *, no_answer: str) -> dict:
        return {}


class _RedisRound:
    """One reply channel, one request per process, answers gathered until all came or time."""

    def __init__(self, url: str) -> None:
        self.client = _redis(url)
        self.reply = reply_channel(uuid.uuid4().hex)
        self.pubsub = None
        self.waiting: dict[str, list[str]] = {}  # request id -> its connection ids

    def __enter__(self):
        try:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self.reply)
            self.pubsub = pubsub
        except (RedisError, OSError) as error:
            log.warning(
                "messages to connections: Redis unavailable (%s), using the control channel",
                type(error).__name__,
            )
        return self

    def __exit__(self, *exc) -> None:
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except (RedisError, OSError):
                pass

    def publish(self, remote: dict, text, data) -> list[str]:
        """Send each process its request; the channels nobody listens on (or all, with Redis
        down), for the control channel."""
        if self.pubsub is None:
            return list(remote)
        unheard = []
        for channel, group in remote.items():
            ids = [row.connection_id for row in group]
            request_id = uuid.uuid4().hex
            body = encode_request(
                request_id=request_id, reply=self.reply, connections=ids, text=text, data=data
            )
            try:
                listeners = self.client.publish(channel, body)
            except (RedisError, OSError) as error:
                log.warning("messages to connections: Redis failed (%s)", type(error).__name__)
                listeners = 0
            if listeners:
                self.waiting[request_id] = ids
            else:  # nobody listens there: a node without Redis (or Redis just failed)
                unheard.append(channel)
        return unheard

    def poll(self, timeout: float) -> dict[str, str]:
        """Answers that arrive within `timeout` seconds."""
        results: dict[str, str] = {}
        try:
            message = self.pubsub.get_message(timeout=timeout)
        except (RedisError, OSError):
            return results
        while message is not None:
            if message.get("type") == "message":
                try:
                    request_id, answer = decode_answer(message["data"])
                except BadDelivery:
                    answer, request_id = {}, ""
                if self.waiting.pop(request_id, None) is not None:
                    results.update(answer)
            try:
                message = self.pubsub.get_message(timeout=0)
            except (RedisError, OSError):
                break
        return results

    def give_up(self, *, no_answer: str) -> dict[str, str]:
        results: dict[str, str] = {}
        for ids in self.waiting.values():
            results.update(dict.fromkeys(ids, no_answer))
        self.waiting = {}
        return results
