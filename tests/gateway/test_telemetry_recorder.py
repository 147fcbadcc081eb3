"""The recorder never blocks the gateway: a full buffer drops and counts; figures add up."""

import asyncio
import logging
import time

from gateway.refusal import Refusal
from gateway.relay.framed import RelayStats
from gateway.telemetry.metrics import GatewayMetrics, add
from gateway.telemetry.recorder import Recorder

SCOPE = {"path": "/echo", "client": ("127.0.0.1", 5000), "headers": [(b"user-agent", b"t/1")]}


class StalledWriter:
    """A database that does not answer until `release()`; remembers what it was given."""

    def __init__(self) -> None:
        self.batches: list[dict] = []
        self.gate = asyncio.Event()

    async def __call__(self, **batch) -> None:
        await self.gate.wait()
        self.batches.append(batch)

    def release(self) -> None:
        self.gate.set()


def sample(recorder: Recorder, name: str, **labels) -> float:
    value = recorder.metrics.registry.get_sample_value(name, {"gateway": "g1", **labels})
    return value or 0.0


def test_a_burst_into_a_tiny_buffer_drops_and_counts_without_blocking(caplog):
    async def scenario():
        writer = StalledWriter()
        recorder = Recorder(gateway="g1", writer=writer, buffer_size=8, batch_size=4, flush_ms=20)
        started = time.perf_counter()
        for i in range(10_000):
            attempt = recorder.begin(SCOPE, f"{i:032x}")
            attempt.refused(Refusal(401, "no key", reason="missing subscription key"))
        elapsed = time.perf_counter() - started
        assert len(recorder.records) == 8
        assert recorder.dropped == 10_000 - 8
        # the writer is stalled: more records wait in the buffer again, then drop again
        await asyncio.sleep(0.1)
        for i in range(20):
            recorder.begin(SCOPE, f"late{i:028x}").refused(Refusal(401, "no key"))
        writer.release()
        deadline = time.monotonic() + 5
        while sum(len(b["records"]) for b in writer.batches) < 16 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        recorder.stop()
        return recorder, writer, elapsed

    with caplog.at_level(logging.WARNING, logger="portico.telemetry"):
        recorder, writer, elapsed = asyncio.run(asyncio.wait_for(scenario(), 30))

    assert elapsed < 5.0, f"10,000 records took {elapsed:.2f}s: the recorder blocked"
    written = [r for b in writer.batches for r in b["records"]]
    assert len(written) == 16  # 8 from the burst, 8 of the 20 late ones
    assert recorder.dropped == 10_000 - 8 + 20 - 8
    assert sample(recorder, "portico_telemetry_dropped_records_total") == recorder.dropped
    assert (
        sample(recorder, "portico_connection_attempts_total", api="", state="refused", status="401")
        == 10_020
    )
    warnings = [r for r in caplog.records if "telemetry buffer full" in r.getMessage()]
    assert len(warnings) == 1, "drop warnings must be rate-limited"
    assert "dropped 1 connection record(s)" in warnings[0].getMessage()
    # the per-minute figures are counters, never dropped
    refused = sum(row["refused"] for b in writer.batches for row in b["usage"])
    assert refused == 10_020


def test_open_connections_are_sampled_and_closed_records_carry_the_relay_figures():
    async def scenario():
        writer = StalledWriter()
        writer.release()
        recorder = Recorder(
            gateway="g1", writer=writer, buffer_size=100, batch_size=50, flush_ms=10_000
        )
        first, second = recorder.begin(SCOPE, "a" * 32), recorder.begin(SCOPE, "b" * 32)
        first.api_id = second.api_id = 7
        first.api_name = second.api_name = "echo"
        stats1, stats2 = RelayStats(), RelayStats()
        first.accepted(stats1, 12.5)
        second.accepted(stats2, 7.5)
        stats1.messages_up, stats1.bytes_up = 3, 30
        await recorder.flush()  # a sample while both are open
        stats1.messages_down, stats1.bytes_down = 2, 200
        stats1.closed_by, stats1.close_code, stats1.close_reason = "client", 1000, "bye"
        first.closed()
        await recorder.flush()
        return recorder, writer

    recorder, writer = asyncio.run(asyncio.wait_for(scenario(), 30))
    usage = [row for b in writer.batches for row in b["usage"]]
    assert sum(r["messages_up"] for r in usage) == 3
    assert sum(r["bytes_up"] for r in usage) == 30
    assert sum(r["bytes_down"] for r in usage) == 200
    assert sum(r["accepted"] for r in usage) == 1  # the second is still open: counted at its end
    assert max(r["active_max"] for r in usage) == 2
    [record] = [r for b in writer.batches for r in b["records"]]
    assert record["correlation_id"] == "a" * 32 and record["gateway"] == "g1"
    assert (record["state"], record["status"], record["closed_by"]) == ("accepted", 101, "client")
    assert (record["close_code"], record["close_reason"]) == (1000, "bye")
    assert (record["messages_up"], record["bytes_down"], record["handshake_ms"]) == (3, 200, 12.5)
    assert sample(recorder, "portico_active_connections", api="echo") == 1
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="down") == 200
    assert sample(recorder, "portico_handshake_seconds_count", api="echo") == 2


def test_add_moves_a_child_as_inc_and_dec_do():
    """The handshake path's direct add (gateway.telemetry.metrics.add) shows in the exposition
    exactly as prometheus_client's inc/dec would."""
    direct, public = GatewayMetrics("g"), GatewayMetrics("g")
    for m, bump in ((direct, add), (public, None)):
        active = m.child(m.active, "api")
        attempts = m.child(m.attempts, "api", "accepted", "101")
        for _ in range(3):
            bump(active) if bump else active.inc()
            bump(attempts) if bump else attempts.inc()
        bump(active, -1) if bump else active.dec()
    for name, labels in (
        ("portico_active_connections", {"gateway": "g", "api": "api"}),
        (
            "portico_connection_attempts_total",
            {"gateway": "g", "api": "api", "state": "accepted", "status": "101"},
        ),
    ):
        value = direct.registry.get_sample_value(name, labels)
        assert value == public.registry.get_sample_value(name, labels)
        assert value == (2.0 if "active" in name else 3.0)
