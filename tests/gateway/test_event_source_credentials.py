"""Event-source APIs on brokers that need credentials, end to end: our own Redis (requirepass,
ACL user), NATS (user/password, token) and Mosquitto (password file) on free loopback ports,
the real gateway at DEBUG, real clients. The password is a secret named value: the right one
delivers, a wrong one is refused with a JSON reason, and neither is ever in the gateway's log."""

import asyncio
import json
import uuid

import aiomqtt
import nats
import pytest
import redis

from apis import services
from apis.models import NamedValue
from tests.support.brokers import BrokerProcess, unique_name
from tests.support.client import refused, run, ws_connect
from tests.support.event_sources import event_api, url
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED_CREDENTIALS = "The event source refused the gateway's credentials."


@pytest.fixture(scope="module")
def debug_gateway(django_db_setup, server_logs):
    """Both planes on uvicorn with every logger at DEBUG: what redis-py, nats-py, paho and
    websockets print about a connection is in the output too."""
    server = ServerProcess("combined", server_logs, LOG_LEVEL="DEBUG")
    yield server
    server.stop()


def new_secret(name: str) -> str:
    """A secret named value with a value found nowhere else, and that value."""
    value = f"pw-{uuid.uuid4().hex}"
    services.create_named_value(name=name, value=value, secret=True)
    return value


def with_auth(broker: BrokerProcess, userinfo: str) -> str:
    return broker.url.replace("://", f"://{userinfo}@", 1)


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


def assert_refused_without_secrets(gateway, broker_url_suffix: str, key: str, *secrets: str):
    result = run(refused(url(gateway, broker_url_suffix, key)))
    assert result.status == 502
    assert result.body["message"] == REFUSED_CREDENTIALS
    assert "retry-after" not in result.headers  # the publisher's to fix, not a blip
    log = gateway.output()
    refusal = [
        line
        for line in log.splitlines()
        if "handshake refused status=502" in line and result.body["correlationId"] in line
    ]
    assert refusal and "refused the credentials" in refusal[0]
    for secret in secrets:
        assert secret not in log
        assert secret not in json.dumps(result.body)


@pytest.mark.parametrize("user", [None, "portico"], ids=["requirepass", "acl-user"])
def test_redis_with_the_right_password_delivers_and_a_wrong_one_is_refused(
    debug_gateway, tmp_path, user
):
    password = new_secret("redis-pass")
    wrong = new_secret("redis-wrong")
    broker = BrokerProcess("redis", tmp_path / "redis", user=user, password=password).start()
    try:
        stream = unique_name("creds")
        _, key = event_api(
            with_auth(broker, f"{user or ''}:{{{{redis-pass}}}}"), {"subscribe": stream}
        )
        _, bad_key = event_api(
            with_auth(broker, f"{user or ''}:{{{{redis-wrong}}}}"), {"subscribe": stream}, "bad"
        )
        serve_current_catalog(debug_gateway)
        client = redis.Redis(port=broker.port, username=user, password=password)

        async def scenario():
            async with ws_connect(url(debug_gateway, "prices", key)) as ws:
                await asyncio.sleep(0.3)  # the feed's XREAD is waiting
                entry = client.xadd(stream, {"price": "1"}).decode()
                return entry, await receive(ws)

        entry, got = run(scenario())
        client.close()
        assert got == {"id": entry, "subject": stream, "data": {"price": "1"}}
        assert_refused_without_secrets(debug_gateway, "bad", bad_key, password, wrong)
    finally:
        broker.stop()


class Stream:
    """A JetStream stream of our own on an authenticating NATS server."""

    def __init__(self, server: str, **auth: str) -> None:
        self.server, self.auth = server, auth
        self.prefix = unique_name("cred26")
        self.name = "S" + uuid.uuid4().hex[:12]

    async def connect(self):
        nc = await nats.connect(self.server, allow_reconnect=False, **self.auth)
        return nc, nc.jetstream()

    async def create(self) -> None:
        nc, js = await self.connect()
        await js.add_stream(name=self.name, subjects=[f"{self.prefix}.>"])
        await nc.close()


@pytest.mark.parametrize("how", ["user-password", "token"])
def test_nats_with_the_right_credentials_delivers_and_wrong_ones_are_refused(
    debug_gateway, tmp_path, how
):
    secret = new_secret("nats-pass")
    wrong = new_secret("nats-wrong")
    if how == "token":
        broker = BrokerProcess("nats", tmp_path / "nats", token=secret).start()
        auth, right_info, wrong_info = {"token": secret}, "{{nats-pass}}", "{{nats-wrong}}"
    else:
        broker = BrokerProcess("nats", tmp_path / "nats", user="portico", password=secret).start()
        auth = {"user": "portico", "password": secret}
        right_info, wrong_info = "portico:{{nats-pass}}", "portico:{{nats-wrong}}"
    try:
        stream = Stream(broker.url, **auth)
        run(stream.create())
        source = {"subscribe": f"{stream.prefix}.ticks"}
        _, key = event_api(with_auth(broker, right_info), source)
        _, bad_key = event_api(with_auth(broker, wrong_info), source, "bad")
        serve_current_catalog(debug_gateway)

        async def scenario():
            nc, js = await stream.connect()
            async with ws_connect(url(debug_gateway, "prices", key)) as ws:
                seq = (await js.publish(f"{stream.prefix}.ticks", b'{"t": 1}')).seq
                got = await receive(ws)
            await nc.close()
            return seq, got

        seq, got = run(scenario())
        assert got == {"id": str(seq), "subject": f"{stream.prefix}.ticks", "data": {"t": 1}}
        assert_refused_without_secrets(debug_gateway, "bad", bad_key, secret, wrong)
    finally:
        broker.stop()


def test_mqtt_with_the_right_password_delivers_and_a_wrong_one_is_refused(debug_gateway, tmp_path):
    password = new_secret("mqtt-pass")
    wrong = new_secret("mqtt-wrong")
    broker = BrokerProcess("mqtt", tmp_path / "mqtt", user="portico", password=password).start()
    try:
        topic = unique_name("cred26", "/")
        _, key = event_api(with_auth(broker, "portico:{{mqtt-pass}}"), {"subscribe": topic})
        _, bad_key = event_api(
            with_auth(broker, "portico:{{mqtt-wrong}}"), {"subscribe": topic}, "bad"
        )
        serve_current_catalog(debug_gateway)

        async def scenario():
            login = {"username": "portico", "password": password}
            async with aiomqtt.Client("127.0.0.1", broker.port, **login) as mqtt:
                async with ws_connect(url(debug_gateway, "prices", key)) as ws:
                    await asyncio.sleep(0.3)  # the gateway's SUBSCRIBE reaches the broker
                    await mqtt.publish(topic, b"21.5", qos=1)
                    return await receive(ws)

        assert run(scenario()) == {"id": "", "subject": topic, "data": 21.5}
        assert_refused_without_secrets(debug_gateway, "bad", bad_key, password, wrong)
    finally:
        broker.stop()


def test_a_changed_password_reaches_the_gateway_and_new_subscriptions_use_it(
    debug_gateway, tmp_path
):
    old = new_secret("redis-pass")
    broker = BrokerProcess("redis", tmp_path / "redis", password=old).start()
    try:
        stream = unique_name("rotate")
        _, key = event_api(with_auth(broker, ":{{redis-pass}}"), {"subscribe": stream})
        serve_current_catalog(debug_gateway)
        client = redis.Redis(port=broker.port, password=old)

        async def one_event(value: str):
            async with ws_connect(url(debug_gateway, "prices", key)) as ws:
                await asyncio.sleep(0.3)
                client.xadd(stream, {"v": value})
                return (await receive(ws))["data"]

        assert run(one_event("before")) == {"v": "before"}
        # The broker's password changes and every connection made with the old one is closed
        # (the gateway's pooled ones too): only the new password opens it now.
        new = f"pw-{uuid.uuid4().hex}"
        client.config_set("requirepass", new)
        client.client_kill_filter(_type="normal", skipme=False)
        client.close()
        client = redis.Redis(port=broker.port, password=new)
        services.update_named_value(
            named_value=NamedValue.objects.get(name="redis-pass"), value=new
        )
        serve_current_catalog(debug_gateway)
        assert run(one_event("after")) == {"v": "after"}
        client.close()
        log = debug_gateway.output()
        assert old not in log and new not in log
    finally:
        broker.stop()
