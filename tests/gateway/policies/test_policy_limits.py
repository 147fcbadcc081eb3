"""rate-limit, quota and their by-key forms (memory and Redis), and limit-concurrency."""

# ruff: noqa: E501 - policy XML is clearer on one line

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from policy_helpers import inbound, make_ctx, new_prefix

from gateway.policies import PolicyRuntime, compile_policy, effective_document

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def runtime() -> PolicyRuntime:
    return PolicyRuntime(key_prefix=new_prefix())


def pipeline(xml: str, runtime: PolicyRuntime):
    return compile_policy(effective_document(xml, [], None), runtime)


def statuses(xml: str, runtime: PolicyRuntime, ctxs) -> list:
    p = pipeline(xml, runtime)

    async def go():
        out = []
        for kw in ctxs:
            r = await p.run(make_ctx(**kw))
            out.append(r)
        return out

    return asyncio.run(go())


def test_rate_limit_429_with_retry_after(runtime):
    xml = inbound('<rate-limit calls="2" renewal-period="30" />')
    r = statuses(xml, runtime, [{}, {}, {}])
    assert r[:2] == [None, None]
    assert r[2].status == 429
    retry = int(r[2].headers["Retry-After"])
    assert 1 <= retry <= 30
    assert f"{retry} seconds" in r[2].message


def test_rate_limit_counts_per_subscription(runtime):
    xml = inbound('<rate-limit calls="1" renewal-period="30" />')
    r = statuses(
        xml, runtime, [{"subscription_id": "a"}, {"subscription_id": "b"}, {"subscription_id": "a"}]
    )
    assert [x and x.status for x in r] == [None, None, 429]


def scoped_statuses(runtime: PolicyRuntime, api_xml, product_xml, global_xml, ctxs) -> list:
    """Statuses of handshakes through API -> product -> All APIs documents, as the gateway
    compiles them for a product's subscribers (or API -> All APIs when `product_xml` is None)."""
    products = [] if product_xml is None else [product_xml]
    p = compile_policy(effective_document(api_xml, products, global_xml), runtime)

    async def go():
        return [await p.run(make_ctx(**kw)) for kw in ctxs]

    return [r and r.status for r in asyncio.run(go())]


LIMITS = {
    "rate-limit": ('<rate-limit calls="2" renewal-period="60" />', 429),
    "quota": ('<quota calls="2" renewal-period="3600" />', 403),
}


@pytest.mark.parametrize("tag", list(LIMITS))
def test_api_scope_counters_are_per_api(runtime, tag):
    """Issue 12 item 9: two APIs with the same numbers used to share one counter."""
    policy, status = LIMITS[tag]
    xml = inbound(policy)
    seq = [{"api_id": "1"}] * 3 + [{"api_id": "2"}] * 3
    assert scoped_statuses(runtime, xml, None, None, seq) == [None, None, status] * 2


@pytest.mark.parametrize("tag", list(LIMITS))
def test_global_scope_counters_are_per_api_and_apart_from_api_scope(runtime, tag):
    policy, status = LIMITS[tag]
    api_xml, global_xml = inbound(f"<base />{policy}"), inbound(policy)
    seq = [{"api_id": "1"}] * 3 + [{"api_id": "2"}] * 3
    # The API's own counter and the All APIs one each allow two: the third is refused.
    assert scoped_statuses(runtime, api_xml, None, global_xml, seq) == [None, None, status] * 2


@pytest.mark.parametrize("tag", list(LIMITS))
def test_product_scope_counter_covers_the_products_apis_per_subscription(runtime, tag):
    policy, status = LIMITS[tag]
    product_xml = inbound(f"<base />{policy}")
    mine = {"product_id": "7", "subscription_id": "s1"}
    seq = [
        {**mine, "api_id": "1"},
        {**mine, "api_id": "2"},
        {**mine, "api_id": "1"},
        {"product_id": "7", "subscription_id": "s2", "api_id": "1"},
    ]
    assert scoped_statuses(runtime, None, product_xml, None, seq) == [None, None, status, None]


def test_by_key_counters_are_shared_by_every_api_and_scope(runtime):
    policy = '<rate-limit-by-key calls="2" renewal-period="60" counter-key="shared" />'
    at_api = compile_policy(effective_document(inbound(policy), [], None), runtime)
    at_global = compile_policy(effective_document(None, [], inbound(policy)), runtime)

    async def go():
        first = [await at_api.run(make_ctx(api_id="1")) for _ in range(2)]
        return first + [await at_global.run(make_ctx(api_id="2"))]

    assert [r and r.status for r in asyncio.run(go())] == [None, None, 429]


def test_rate_limit_by_key_separate_counters(runtime):
    xml = inbound(
        '<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.IpAddress)" />'
    )
    seq = [{"peer_ip": "192.0.2.1"}] * 3 + [{"peer_ip": "192.0.2.2"}] * 2
    r = statuses(xml, runtime, seq)
    assert [x and x.status for x in r] == [None, None, 429, None, None]


def test_rate_limit_by_key_custom_retry_header_and_variables(runtime):
    xml = inbound(
        '<rate-limit-by-key calls="1" renewal-period="10" counter-key="k" '
        'retry-after-header-name="X-Retry" retry-after-variable-name="retry" />'
    )
    r = statuses(xml, runtime, [{}, {}])
    assert r[0] is None and "X-Retry" in r[1].headers


def test_quota_403_and_per_key(runtime):
    xml = inbound('<quota calls="2" renewal-period="3600" />')
    r = statuses(xml, runtime, [{}, {}, {}, {"subscription_id": "other"}])
    assert [x and x.status for x in r] == [None, None, 403, None]
    assert "Quota will be replenished" in r[2].message
    xml = inbound(
        '<quota-by-key calls="1" renewal-period="3600" counter-key="@(context.User.Id)" />'
    )
    r = statuses(xml, runtime, [{"user_id": "u1"}, {"user_id": "u2"}, {"user_id": "u1"}])
    assert [x and x.status for x in r] == [None, None, 403]


def test_rate_limit_window_renews(runtime):
    xml = inbound('<rate-limit-by-key calls="1" renewal-period="1" counter-key="x" />')
    p = pipeline(xml, runtime)

    async def go():
        first = await p.run(make_ctx())
        second = await p.run(make_ctx())
        await asyncio.sleep(1.1)
        third = await p.run(make_ctx())
        return first, second, third

    first, second, third = asyncio.run(go())
    assert first is None and second.status == 429 and third is None


def test_runtime_survives_a_new_event_loop(runtime):
    xml = inbound('<rate-limit-by-key calls="5" renewal-period="60" counter-key="x" />')
    p = pipeline(xml, runtime)
    assert asyncio.run(p.run(make_ctx())) is None
    assert asyncio.run(p.run(make_ctx())) is None  # a second loop counts on


def test_memory_counter_answers_within_the_call(runtime):
    """With memory:// a rate-limit or quota hit never waits for another task or a thread, so a
    busy loop never delays or refuses it (limits' async memory storage did: its expiry task held
    the key's lock across a thread-pool hop, and the next hit waited for that thread)."""
    for body in (
        '<rate-limit-by-key calls="100" renewal-period="60" counter-key="x" />',
        '<quota-by-key calls="100" renewal-period="60" counter-key="y" />',
    ):
        p = pipeline(inbound(body), runtime)

        async def go(p=p):
            outcomes = []
            for _ in range(3):
                coro = p.run(make_ctx())
                try:
                    coro.send(None)
                except StopIteration as done:
                    outcomes.append(done.value)
                else:  # it suspended: waiting for something other than the counter
                    coro.close()
                    outcomes.append("waited")
                await asyncio.sleep(0)  # let any expiry task the hit scheduled start
            return outcomes

        assert asyncio.run(go()) == [None, None, None], body


def test_memory_counters_expire_without_a_thread(runtime):
    """limits' memory storage starts a timer thread 10 ms after a hit to drop expired entries;
    the gateway's drops them from the hits, at most once a second."""
    xml = inbound(
        '<rate-limit-by-key calls="5" renewal-period="1" counter-key="@(context.Subscription.Id)" />'
    )
    p = pipeline(xml, runtime)

    async def go():
        await p.run(make_ctx(subscription_id="a"))
        await asyncio.sleep(0.05)  # the storage's own start-up timer, cancelled, has ended
        await p.run(make_ctx(subscription_id="a"))
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
        await asyncio.sleep(1.1)
        await p.run(make_ctx(subscription_id="b"))  # a's entries are over a second old now
        return timers, list(runtime.limiters()[0].local.events)

    timers, keys = asyncio.run(go())
    assert timers == []
    assert [k for k in keys if "rlk:a/" in k] == []
    assert [k for k in keys if "rlk:b/" in k] != []


@pytest.fixture
def redis_prefix():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:  # pragma: no cover
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = new_prefix()
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_rate_limit_shared_between_runtimes_through_redis(redis_prefix):
    xml = inbound('<rate-limit-by-key calls="3" renewal-period="60" counter-key="shared" />')
    a = PolicyRuntime(limits_storage_uri=REDIS_URL, key_prefix=redis_prefix)
    b = PolicyRuntime(limits_storage_uri=REDIS_URL, key_prefix=redis_prefix)
    pa, pb = pipeline(xml, a), pipeline(xml, b)

    async def go():
        out = [await pa.run(make_ctx()), await pb.run(make_ctx()), await pa.run(make_ctx())]
        out.append(await pb.run(make_ctx()))
        await a.aclose()
        await b.aclose()
        return out

    out = asyncio.run(go())
    assert out[:3] == [None, None, None]
    assert out[3] is not None and out[3].status == 429 and "Retry-After" in out[3].headers
    # A runtime with another prefix has its own counters.
    other = PolicyRuntime(limits_storage_uri=REDIS_URL, key_prefix=redis_prefix + "-x")

    async def again():
        r = await pipeline(xml, other).run(make_ctx())
        await other.aclose()
        return r

    assert asyncio.run(again()) is None


def test_quota_through_redis(redis_prefix):
    xml = inbound('<quota calls="1" renewal-period="60" />')
    rt = PolicyRuntime(limits_storage_uri=REDIS_URL, key_prefix=redis_prefix)
    p = pipeline(xml, rt)

    async def go():
        out = [await p.run(make_ctx()), await p.run(make_ctx())]
        await rt.aclose()
        return out

    first, second = asyncio.run(go())
    assert first is None and second.status == 403


def test_limit_concurrency_frees_slots_on_release(runtime):
    xml = inbound('<limit-concurrency key="@(context.Subscription.Id)" max-count="2" />')
    p = pipeline(xml, runtime)

    async def go():
        c1, c2, c3, other = make_ctx(), make_ctx(), make_ctx(), make_ctx(subscription_id="b")
        r1, r2, r3, r4 = [await p.run(c) for c in (c1, c2, c3, other)]
        assert (r1, r2, r4) == (None, None, None)
        assert r3 is not None and r3.status == 429
        c1.release()
        c1.release()  # idempotent: frees one slot only
        c4 = make_ctx()
        assert await p.run(c4) is None
        assert (await p.run(make_ctx())).status == 429
        c2.release()
        c4.release()
        assert await p.run(make_ctx()) is None

    asyncio.run(go())


def test_slot_released_when_a_later_policy_refuses(runtime):
    xml = inbound(
        '<limit-concurrency key="k" max-count="1" />'
        '<check-header name="X-Need" failed-check-httpcode="401" />'
    )
    p = pipeline(xml, runtime)

    async def go():
        for _ in range(3):
            r = await p.run(make_ctx())
            assert r is not None and r.status == 401
        ok = make_ctx(headers=[("X-Need", "1")])
        assert await p.run(ok) is None
        assert len(ok.release_callbacks) == 1

    asyncio.run(go())
    assert runtime.slots_in_use(runtime.counter_key("conc", "k")) == 1
