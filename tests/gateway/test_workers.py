"""`run_gateway --workers N`: N processes on one port, restarted when they die, drained on SIGTERM,
with rate limits and concurrency limits exact across them (counters and leases in Redis)."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from apis import services
from tests.support.client import run, ws_connect
from tests.support.servers import ROOT, ServerProcess, serve_current_catalog, server_env
from tests.support.workers import alive, wait_for_every_worker, workers_of

pytestmark = pytest.mark.django_db(transaction=True)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)"
)


def doc(inbound: str) -> str:
    return f"<policies><inbound>{inbound}</inbound><backend><base/></backend></policies>"


async def attempt(url: str) -> int:
    """101 when the handshake was accepted (and a message echoed), else the refusal status."""
    try:
        async with ws_connect(url) as ws:
            await ws.send("hi")
            await ws.recv()
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_several_workers_without_shared_counters_refuse_to_start():
    env = {
        k: v for k, v in server_env().items() if k not in ("REDIS_URL", "PORTICO_LIMITS_STORAGE")
    }
    out = subprocess.run(
        [sys.executable, "manage.py", "run_gateway", "--workers", "2", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "--workers 2 needs shared counters" in out.stderr
    assert "REDIS_URL" in out.stderr and "--workers 1" in out.stderr


@pytest.fixture
def two_workers(server_logs):
    servers = []

    def start(**env):
        # The counters' 0.3 s default bound turns a slow Redis on a busy machine into a 503;
        # these tests are about sharing, not about Redis' latency.
        env.setdefault("PORTICO_COUNTERS_TIMEOUT_SECONDS", "5")
        server = ServerProcess("gateway", server_logs, workers=2, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@needs_redis
def test_a_killed_worker_is_replaced_and_handshakes_keep_working(two_workers, catalog):
    server = two_workers()
    serve_current_catalog(server)
    url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
    before = wait_for_every_worker(server)  # the kernel spreads connections over both
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    # A handshake that reaches the dying worker's socket before its last thread is gone is
    # reset (SO_REUSEPORT has no hand-over; docs/deployment.md says so). Once the supervisor has
    # reaped it, the surviving worker takes every new connection while a replacement starts.
    deadline = time.monotonic() + 10
    while Path(f"/proc/{victim}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    got = []
    for _ in range(5):
        try:
            got.append(run(attempt(url)))
        except (InvalidMessage, OSError) as exc:  # shown with the server's log below
            got.append(f"{time.time():.3f} {exc!r}")
    assert got == [101] * 5, (got, server.output())
    after = wait_for_every_worker(server)
    assert victim not in after and len(after - before) == 1  # a new worker answers
    assert f"(pid {victim}) exited with -9" in server.output()


@needs_redis
def test_sigterm_drains_every_worker(two_workers, catalog, backend):
    server = two_workers()
    serve_current_catalog(server)
    url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
    workers = wait_for_every_worker(server)

    async def scenario():
        connections = [await ws_connect(url) for _ in range(6)]
        for ws in connections:
            await ws.send("x")
            await ws.recv()
        server.process.send_signal(signal.SIGTERM)
        codes = []
        for ws in connections:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 20)
            codes.append(ws.close_code)
        return codes

    codes = run(scenario())
    assert set(codes) <= {1001, 1012}  # the graceful close each worker gives today
    assert server.process.wait(40) == 0
    assert not any(alive(pid) for pid in workers)
    for seen in backend.requests:
        assert backend.wait_closed(seen)
        assert seen.closed_code in (1001, 1012)


@needs_redis
def test_rate_limit_is_exact_across_two_workers(two_workers, catalog):
    services.update_api(
        api=catalog.api, policy_xml=doc('<rate-limit calls="5" renewal-period="60"/>')
    )
    server = two_workers()
    serve_current_catalog(server)
    wait_for_every_worker(server)
    url = f"{server.ws_url}/echo?subscription-key={catalog.key}"
    results = [run(attempt(url)) for _ in range(12)]
    assert results.count(101) == 5, results
    assert results.count(429) == 7, results


@needs_redis
def test_limit_concurrency_is_shared_by_workers_and_a_dead_workers_slots_come_back(
    two_workers, catalog
):
    services.update_api(
        api=catalog.api,
        policy_xml=doc('<limit-concurrency key="@(context.Subscription.Id)" max-count="1" />'),
    )
    server = two_workers(PORTICO_CONCURRENCY_LEASE_SECONDS="2")
    serve_current_catalog(server)
    wait_for_every_worker(server)
    url = f"{server.ws_url}/echo?subscription-key={catalog.key}"

    async def held_then_others():
        async with ws_connect(url) as ws:
            await ws.send("hold")
            await ws.recv()
            await asyncio.sleep(2.5)  # longer than a lease: the holder renews it
            return [await attempt(url) for _ in range(8)]

    others = run(held_then_others())
    assert others == [429] * 8, (others, server.output()[-3000:])  # on either worker

    async def hold_and_kill_all():
        ws = await ws_connect(url)
        await ws.send("hold")
        await ws.recv()
        for pid in workers_of(server):
            os.kill(pid, signal.SIGKILL)  # nobody gives the slot back
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except (ConnectionClosed, TimeoutError):
            pass

    run(hold_and_kill_all())
    wait_for_every_worker(server)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if run(attempt(url)) == 101:  # the killed worker's lease expired
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the killed worker's slot never came back")
