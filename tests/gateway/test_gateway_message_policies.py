"""onMessage policies enforced by the real gateway, both directions: close codes each side
receives, and dropped messages that never reach the other side."""

import asyncio
import json
import os
import time
import uuid

import pytest
from django.urls import reverse
from websockets.exceptions import ConnectionClosed

from apis import services
from apis.models import Api
from apis.signals import bump_catalog_revision
from apis.telemetry.models import ConnectionLog
from tests.support.client import refused, run, ws_connect
from tests.support.policy_xml import on_message
from tests.support.schema_host import SchemaHost
from tests.support.servers import ServerProcess, serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = '{"type": "object", "required": ["op"], "properties": {"op": {"type": "string"}}}'


def use(gateway, catalog, policy_xml: str, **changes) -> str:
    services.update_api(api=catalog.api, policy_xml=policy_xml, **changes)
    serve_current_catalog(gateway)
    return f"{gateway.ws_url}/echo?subscription-key={catalog.key}"


async def closed_after(ws, *messages) -> tuple[int | None, str]:
    for message in messages:
        await ws.send(message)
    with pytest.raises(ConnectionClosed):
        while True:
            await ws.recv()
    return ws.close_code, ws.close_reason


def log_after(gateway, mark: int, text: str) -> str:
    """The gateway's output since `mark` once it shows `text` (logged when a connection ends)."""
    deadline = time.monotonic() + 5
    while text not in gateway.output()[mark:] and time.monotonic() < deadline:
        time.sleep(0.05)
    return gateway.output()[mark:]


def backend_close(backend) -> tuple[int | None, list]:
    seen = backend.requests[-1]
    assert backend.wait_closed(seen)
    return seen.closed_code, seen.received


def test_no_on_message_policies_relay_as_before(gateway, catalog, backend):
    url = use(gateway, catalog, "<policies><on-message><inbound/></on-message></policies>")

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("x" * 5000)
            return await ws.recv()

    assert run(scenario()) == "x" * 5000


def test_limit_message_size_client_gets_1009_backend_1001(gateway, catalog, backend):
    url = use(gateway, catalog, on_message(inbound='<limit-message-size max-bytes="10"/>'))

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("é" * 5)  # 10 bytes: at the limit
            assert await ws.recv() == "é" * 5
            return await closed_after(ws, "é" * 6)  # 12 bytes: over it

    code, _reason = run(scenario())
    assert code == 1009
    closed, received = backend_close(backend)
    assert closed == 1001
    assert received == ["é" * 5]


def test_limit_message_size_backend_gets_1009_client_1001(gateway, catalog, backend):
    url = use(gateway, catalog, on_message(outbound='<limit-message-size max-bytes="100"/>'))

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("!send-bytes 100")
            assert await ws.recv() == b"\xab" * 100
            return await closed_after(ws, "!send-bytes 101")

    code, _reason = run(scenario())
    assert code == 1001
    closed, _ = backend_close(backend)
    assert closed == 1009


def test_api_limit_still_wins_when_smaller(gateway, catalog, backend):
    url = use(
        gateway,
        catalog,
        on_message(inbound='<limit-message-size max-bytes="5000"/>'),
        max_message_bytes=1000,
    )

    async def scenario():
        async with ws_connect(url) as ws:
            return await closed_after(ws, b"z" * 1001)

    assert run(scenario())[0] == 1009
    assert backend_close(backend) == (1001, [])


def test_rate_limit_messages_close_sends_1008_with_reason(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="2" renewal-period="60" action="close"/>'
    url = use(gateway, catalog, on_message(inbound=policy))

    async def scenario():
        async with ws_connect(url) as ws:
            for m in ("a", "b"):
                await ws.send(m)
                assert await ws.recv() == m
            return await closed_after(ws, "c")

    code, reason = run(scenario())
    assert code == 1008
    assert "rate limit" in reason
    assert backend_close(backend) == (1001, ["a", "b"])


def test_rate_limit_messages_is_per_connection_by_default(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="1" renewal-period="60" action="close"/>'
    url = use(gateway, catalog, on_message(inbound=policy))

    async def scenario():
        for m in ("first", "second"):  # two connections: one message each is allowed
            async with ws_connect(url) as ws:
                await ws.send(m)
                assert await ws.recv() == m

    run(scenario())


def test_rate_limit_messages_drop_inbound_never_reaches_backend(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="2" renewal-period="1" action="drop"/>'
    url = use(gateway, catalog, on_message(inbound=policy))

    async def scenario():
        async with ws_connect(url) as ws:
            started = time.monotonic()
            for m in ("a", "b", "c"):
                await ws.send(m)
            got = [await ws.recv(), await ws.recv()]
            await asyncio.sleep(max(0.0, 1.2 - (time.monotonic() - started)))  # a new window
            await ws.send("d")
            got.append(await ws.recv())  # "c" would have come back before "d"
            return got

    assert run(scenario()) == ["a", "b", "d"]
    assert backend.requests[-1].received == ["a", "b", "d"]
    row = wait_for(
        lambda: (
            ConnectionLog.objects.filter(api_id=catalog.api.id, ended_at__isnull=False)
            .order_by("-id")
            .first()
        )
    )
    assert (row.messages_up, row.messages_dropped) == (3, 1)  # the connection's log counts it


def test_rate_limit_messages_drop_outbound_never_reaches_client(gateway, catalog, backend):
    policy = '<rate-limit-messages calls="2" renewal-period="1" action="drop"/>'
    url = use(gateway, catalog, on_message(outbound=policy))

    async def scenario():
        async with ws_connect(url) as ws:
            started = time.monotonic()
            for m in ("a", "b", "c"):
                await ws.send(m)
            got = [await ws.recv(), await ws.recv()]
            await asyncio.sleep(max(0.0, 1.2 - (time.monotonic() - started)))
            await ws.send("d")
            got.append(await ws.recv())
            return got

    assert run(scenario()) == ["a", "b", "d"]
    assert backend.requests[-1].received == ["a", "b", "c", "d"]  # the backend did send "c"


def test_rate_limit_messages_counter_key_is_shared_between_connections(gateway, catalog, backend):
    key = uuid.uuid4().hex
    policy = f'<rate-limit-messages calls="2" renewal-period="60" counter-key="{key}"/>'
    url = use(gateway, catalog, on_message(inbound=policy))

    async def scenario():
        async with ws_connect(url) as first, ws_connect(url) as second:
            await first.send("a")
            assert await first.recv() == "a"
            await second.send("b")
            assert await second.recv() == "b"
            return await closed_after(first, "c")

    code, reason = run(scenario())
    assert code == 1008
    assert "rate limit" in reason


def test_validate_message_inline_close_1007_with_error_path(gateway, catalog, backend):
    policy = f'<validate-message action="close"><schema>{SCHEMA}</schema></validate-message>'
    url = use(gateway, catalog, on_message(inbound=policy))
    mark = len(gateway.output())

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send('{"op": "hi"}')
            assert await ws.recv() == '{"op": "hi"}'
            await ws.send(b"binary passes")
            assert await ws.recv() == b"binary passes"
            return await closed_after(ws, '{"op": 5}')

    code, reason = run(scenario())
    assert (code, reason) == (1007, '$.op: fails "type"')
    closed, received = backend_close(backend)
    assert closed == 1001
    assert '{"op": 5}' not in received
    log = log_after(gateway, mark, "onMessage policy closed the connection: 1007")
    assert "onMessage policy closed the connection: 1007" in log
    assert "invalid frame" not in log  # a policy's close is not blamed on a peer


def test_validate_message_drop_outbound_and_not_json(gateway, catalog, backend):
    policy = f'<validate-message action="drop"><schema>{SCHEMA}</schema></validate-message>'
    url = use(gateway, catalog, on_message(outbound=policy))

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("not json")  # the backend echoes it; the client never sees it
            await ws.send('{"nop": 1}')
            await ws.send('{"op": "ok"}')
            return await ws.recv()

    assert run(scenario()) == '{"op": "ok"}'
    assert backend.requests[-1].received == ["not json", '{"nop": 1}', '{"op": "ok"}']


def test_validate_message_log_passes_the_message(gateway, catalog, backend):
    policy = f'<validate-message action="log"><schema>{SCHEMA}</schema></validate-message>'
    url = use(gateway, catalog, on_message(inbound=policy))

    mark = len(gateway.output())

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send("not json")
            await ws.send('{"op": 1, "secret": "s3cr3t"}')
            return [await ws.recv(), await ws.recv()]

    assert run(scenario()) == ["not json", '{"op": 1, "secret": "s3cr3t"}']
    log = log_after(gateway, mark, "failed validate-message")
    assert "2 message(s) failed validate-message api=echo first: not JSON" in log
    assert "s3cr3t" not in log


CONTRACT = {
    "channels": [
        {
            "name": "chat",
            "messages": [
                {
                    "name": "say",
                    "directions": ["send"],
                    "payload": {"type": "object", "required": ["say"]},
                },
                {
                    "name": "heard",
                    "directions": ["receive"],
                    "payload": {"type": "object", "required": ["heard"]},
                },
            ],
        }
    ]
}


def test_validate_message_from_asyncapi_contract_by_direction(gateway, catalog, backend):
    policy = '<validate-message schema-source="asyncapi" action="close"/>'
    url = use(
        gateway,
        catalog,
        on_message(inbound=policy, outbound=policy),
        asyncapi_contract=CONTRACT,
    )

    async def client_breaks():
        async with ws_connect(url) as ws:
            return await closed_after(ws, '{"heard": 1}')  # a receive message, sent

    code, reason = run(client_breaks())
    assert (code, reason) == (1007, "$: 'say' is a required property")
    assert backend_close(backend) == (1001, [])

    async def backend_breaks():
        async with ws_connect(url) as ws:
            return await closed_after(ws, '{"say": 1}')  # valid; the echo back is not

    code, _reason = run(backend_breaks())
    assert code == 1001
    closed, received = backend_close(backend)
    assert (closed, received) == (1007, ['{"say": 1}'])


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)")
def test_rate_limit_messages_counter_is_shared_by_two_gateway_processes(
    catalog, backend, server_logs
):
    prefix = f"portico-msg-{uuid.uuid4().hex}"
    policy = (
        '<rate-limit-messages calls="3" renewal-period="60" '
        'counter-key="@(context.Subscription.Id)" action="drop"/>'
    )
    services.update_api(api=catalog.api, policy_xml=on_message(inbound=policy))
    first = ServerProcess("gateway", server_logs, PORTICO_LIMITS_KEY_PREFIX=prefix)
    second = ServerProcess("gateway", server_logs, PORTICO_LIMITS_KEY_PREFIX=prefix)

    async def scenario():
        urls = [f"{s.ws_url}/echo?subscription-key={catalog.key}" for s in (first, second)]
        async with ws_connect(urls[0]) as one, ws_connect(urls[1]) as two:
            for ws, m in ((one, "a"), (two, "b"), (one, "c")):
                await ws.send(m)
                assert await ws.recv() == m
            await two.send("dropped")  # the fourth message of the subscription
            await two.send("!send-text 1")  # a command the backend never receives either
            await one.send("also dropped")

    try:
        serve_current_catalog(first, second)
        run(scenario())
    finally:
        first.stop()
        second.stop()
    assert all(backend.wait_closed(r) for r in backend.requests)
    received = sorted(m for r in backend.requests for m in r.received)
    assert received == ["a", "b", "c"]


def test_log_messages_samples_reach_the_connection_log_page(
    gateway, catalog, backend, admin_client
):
    policy = '<log-messages max-bytes="200"><redact path="$.token"/></log-messages>'
    url = use(gateway, catalog, on_message(inbound=policy, outbound=policy))

    async def scenario():
        async with ws_connect(url) as ws:
            await ws.send('{"say": "hi", "token": "s3cr3t"}')
            return await ws.recv()

    assert run(scenario()) == '{"say": "hi", "token": "s3cr3t"}'  # logging changes nothing
    row = wait_for(
        lambda: (
            ConnectionLog.objects.filter(api_id=catalog.api.id, ended_at__isnull=False)
            .order_by("-id")
            .first()
        )
    )
    assert [(s["direction"], s["text"]) for s in row.message_samples] == [
        ("up", '{"say": "hi", "token": "[redacted]"}'),
        ("down", '{"say": "hi", "token": "[redacted]"}'),
    ]
    page = admin_client.get(
        reverse("publisher:log-detail", args=[catalog.api.name, row.id])
    ).content.decode()
    assert page.count("data-sample") == 2
    assert "client → backend" in page and "backend → client" in page
    assert "s3cr3t" not in page


def test_choose_on_message_content_drops_only_matching_messages(gateway, catalog, backend):
    drop = '<validate-message action="drop"><schema>false</schema></validate-message>'
    condition = '@(context.Message.Json("op") == "debug" || context.Message.Text == "noise")'
    policy = f"<choose><when condition='{condition}'>{drop}</when></choose>"
    url = use(gateway, catalog, on_message(inbound=policy))
    sent = ['{"op": "say"}', '{"op": "debug"}', "noise", "hello", '{"op": "bye"}']

    async def scenario():
        async with ws_connect(url) as ws:
            for m in sent:
                await ws.send(m)
            return [await ws.recv() for _ in range(3)]

    kept = ['{"op": "say"}', "hello", '{"op": "bye"}']
    assert run(scenario()) == kept  # dropped ones would have come back in between
    assert backend.requests[-1].received == kept


@pytest.mark.parametrize("source", ["inline", "asyncapi"])
def test_a_stored_schema_referring_outside_itself_fails_closed_and_fetches_nothing(
    gateway, catalog, backend, source
):
    """Issue 23 item 4: a policy or contract written around save-time validation (straight into
    the database) with a remote `$ref`: the gateway refuses to compile the policy, as it does
    any policy that no longer compiles (the handshake answers 500), and never fetches."""
    with SchemaHost() as host:
        remote = {"type": "object", "properties": {"op": {"$ref": host.url("/op.json")}}}
        if source == "inline":
            schema = f"<schema>{json.dumps(remote)}</schema>"
            policy, contract = f"<validate-message>{schema}</validate-message>", {}
        else:
            policy = '<validate-message schema-source="asyncapi"/>'
            message = {"name": "say", "directions": ["send"], "payload": remote}
            contract = {"channels": [{"name": "chat", "messages": [message]}]}
        mark = len(gateway.output())
        Api.objects.filter(pk=catalog.api.pk).update(
            policy_xml=on_message(inbound=policy), asyncapi_contract=contract
        )
        bump_catalog_revision()
        serve_current_catalog(gateway)
        url = f"{gateway.ws_url}/echo?subscription-key={catalog.key}"
        answer = run(refused(url))
        assert (answer.status, answer.body["message"]) == (
            500,
            "The API's policy could not be evaluated.",
        )
        assert host.requests == []
    log = log_after(gateway, mark, "does not compile")
    assert "policy of API echo does not compile" in log
    assert "$.properties.op['$ref']: refers outside the schema" in log
    assert "/op.json" not in log  # the reference is not repeated: a URL may hold a secret
