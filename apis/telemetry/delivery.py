"""Messages to live connections, the control plane's side: one request per holding process.

The live list says which gateway process holds each connection (gateway, node, worker). A
process running in this same process (the demo) is called directly; any other is sent its
request over Redis pub/sub on its own channel (REDIS_URL, shared with the gateways and nodes)
and answers on a reply channel this call listens on. Without a way to reach a process its
connections count as unreachable and nothing is sent to them; when Redis itself is down
`DeliveryUnavailable` is raised before anything is sent to anyone.
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
UNREACHABLE = "unreachable"  # no process listens on the holder's channel (no Redis on it)
NO_ANSWER = "no_answer"  # asked, never answered within ANSWER_SECONDS: it may have arrived


class DeliveryUnavailable(Exception):
    """No message was sent: the transport to the gateway processes is down (says which)."""


@cache
def _redis(url: str) -> redis.Redis:
    """One client (a connection pool) per process: a send opens no new connection."""
    return redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=ANSWER_SECONDS + 2)


def deliver(rows, *, text: str | None, data: bytes | None) -> dict[str, str]:
    """Send the message to every live connection in `rows` (LiveConnection, with `process`):
    {connection id: outcome of gateway.catalog.delivery, UNREACHABLE or NO_ANSWER}."""
    by_process: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        process = row.process
        channel = process_channel(process.gateway, process.node_id, process.worker)
        by_process[channel].append(row.connection_id)
    local = local_mailboxes()
    remote = {channel: ids for channel, ids in by_process.items() if channel not in local}
    results: dict[str, str] = {}
    if remote and not settings.REDIS_URL:
        for ids in remote.values():
            results.update(dict.fromkeys(ids, UNREACHABLE))
        remote = {}
    with _RedisRound(settings.REDIS_URL) if remote else _NoRound() as round_:
        # Subscribed to the answers before anything is sent: a Redis outage raises here.
        sent = round_.publish(remote, text, data, results)
        for channel, ids in by_process.items():
            if channel in local:
                results.update(_deliver_here(local[channel], ids, text, data))
        results.update(round_.collect(sent))
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
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def publish(self, remote, text, data, results) -> dict:
        return {}

    def collect(self, sent) -> dict:
        return {}


class _RedisRound:
    """One reply channel, one request per process, answers gathered until all came or time."""

    def __init__(self, url: str) -> None:
        self.client = _redis(url)
        self.reply = reply_channel(uuid.uuid4().hex)
        self.pubsub = None

    def __enter__(self):
        try:
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(self.reply)
        except (RedisError, OSError) as error:
            raise DeliveryUnavailable(
                f"Redis is unreachable ({type(error).__name__}): nothing was sent"
            ) from None
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.pubsub.close()
        except (RedisError, OSError):
            pass

    def publish(self, remote: dict, text, data, results: dict) -> dict[str, list[str]]:
        """Send each process its request; {request id: its connection ids} of those sent."""
        sent = {}
        for channel, ids in remote.items():
            request_id = uuid.uuid4().hex
            body = encode_request(
                request_id=request_id, reply=self.reply, connections=ids, text=text, data=data
            )
            try:
                listeners = self.client.publish(channel, body)
            except (RedisError, OSError) as error:
                if not sent:
                    raise DeliveryUnavailable(
                        f"Redis is unreachable ({type(error).__name__}): nothing was sent"
                    ) from None
                log.warning("messages to connections: Redis failed mid-send (%s)", error)
                listeners = 0
            if listeners:
                sent[request_id] = ids
            else:  # nobody listens there: the process is gone, or has no Redis
                results.update(dict.fromkeys(ids, UNREACHABLE))
        return sent

    def collect(self, sent: dict[str, list[str]]) -> dict[str, str]:
        results: dict[str, str] = {}
        deadline = time.monotonic() + ANSWER_SECONDS
        waiting = dict(sent)
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                message = self.pubsub.get_message(timeout=left)
            except (RedisError, OSError):
                break
            if message is None or message.get("type") != "message":
                continue
            try:
                request_id, answer = decode_answer(message["data"])
            except BadDelivery:
                continue
            if waiting.pop(request_id, None) is not None:
                results.update(answer)
        for ids in waiting.values():
            results.update(dict.fromkeys(ids, NO_ANSWER))
        return results
