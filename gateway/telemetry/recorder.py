"""The in-process recorder: takes finished connection records without blocking, writes batches.

The consumer hands over a small dict per connection (`finish`); it goes into a bounded deque
and a background task moves it, with the per-minute figures, into batches (at most
`batch_size` records, each with its own id) every `flush_ms` or as soon as `batch_size` records
wait. Batches go to a bounded spool and are written from there, oldest first; a failed write
(database or control plane unreachable) leaves them in the spool and is retried with backoff,
and the writer stores a batch id at most once. Records are dropped, and counted, only when the
buffer or the spool is full. Open connections are sampled at each flush (their `RelayStats`
integers are read, never touched; only those `Activity`'s shared pass found moving) for the
traffic figures, so the relay's per-message path stays
as it was; the open-connection counts behind `active_max` are kept as connections open and close,
never counted by scanning.
"""

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from gateway.telemetry.activity import Activity
from gateway.telemetry.attempt import ACCEPTED, Attempt
from gateway.telemetry.metrics import GatewayMetrics, add
from gateway.telemetry.minutes import MinuteTable, minute_of
from gateway.telemetry.spool import MemorySpool

log = logging.getLogger("portico.telemetry")

# writer(batch_id=..., records=[...], usage=[...], refusals=[...]); raises when it cannot write
Writer = Callable[..., Awaitable[object]]
DROP_WARNING_SECONDS = 10.0
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


class Recorder:
    def __init__(
        self,
        *,
        gateway: str,
        writer: Writer | None,
        buffer_size: int,
        batch_size: int,
        flush_ms: int,
        metrics: GatewayMetrics | None = None,
        spool=None,
        activity: Activity | None = None,
    ) -> None:
        self.gateway = gateway
        self.writer = writer  # None: keep only the Prometheus metrics
        self.buffer_size = buffer_size
        self.batch_size = batch_size
        self.flush_seconds = flush_ms / 1000
        self.metrics = metrics or GatewayMetrics(gateway)
        self.records: deque[dict] = deque()
        self.minutes = MinuteTable()
        self.live: dict[int, Attempt] = {}
        # Which open connections moved: one pass shared with the live sessions reporter.
        self.activity = activity if activity is not None else Activity()
        self.activity.reader("recorder")
        self.spool = spool if spool is not None else MemorySpool(max_records=100_000)
        self.dropped = 0
        self._dropped_warned = 0
        self._last_warning = float("-inf")
        self._retry_delay = 0.0
        self._retry_at = 0.0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        # Open connections per (api id, subscription id), kept on open and close; and the most
        # open at once this minute per key, as already put into the minute table.
        self.open_counts: dict[tuple[int, int], int] = {}
        self._minute = None
        self._peaks: dict[tuple[int, int], int] = {}

    # called by the consumer (on the event loop; never awaits) ------------------------------------

    def begin(self, scope: dict, correlation_id: str) -> Attempt:
        self._ensure_task()
        return Attempt(self, scope, correlation_id)

    def opened(self, attempt: Attempt) -> None:
        self.live[id(attempt)] = attempt
        self.activity.watch(attempt.stats, attempt=attempt)
        key = (attempt.api_id or 0, attempt.subscription_id or 0)
        count = self.open_counts[key] = self.open_counts.get(key, 0) + 1
        minute = minute_of(_utcnow())
        if minute != self._minute:
            self._new_minute(minute)
        if count > self._peaks.get(key, 0):
            self._peaks[key] = count
            counts = self.minutes.counts((minute, *key))
            counts.active_max = max(counts.active_max, count)
        m = self.metrics
        add(m.child(m.active, attempt.api_name))
        m.child(m.handshake, attempt.api_name).observe(attempt.handshake_ms / 1000)

    def finish(self, attempt: Attempt, state: str, status: int, reason: str, error="") -> None:
        attempt.done = True
        m = self.metrics
        add(m.child(m.attempts, attempt.api_name, state, str(status)))
        if self.live.pop(id(attempt), None) is not None:
            key = (attempt.api_id or 0, attempt.subscription_id or 0)
            left = self.open_counts[key] - 1
            if left:
                self.open_counts[key] = left
            else:
                del self.open_counts[key]
            self.activity.unwatch(attempt.stats, attempt=True)
            self._sample(attempt)
            add(m.child(m.active, attempt.api_name), -1)
            add(m.child(m.closes, attempt.api_name, attempt.stats.closed_by or "unknown"))
        self._count_attempt(attempt, state, status)
        if self.writer is None:
            return
        if len(self.records) >= self.buffer_size:
            self._drop(1)
            return
        self.records.append(attempt.record(state, status, reason, error))
        if len(self.records) >= self.batch_size and self._wake is not None:
            self._wake.set()

    # per-minute figures ------------------------------------------------------------

    def _count_attempt(self, attempt: Attempt, state: str, status: int) -> None:
        minute = minute_of(attempt.started_at)
        api, sub = attempt.api_id or 0, attempt.subscription_id or 0
        counts = self.minutes.counts((minute, api, sub))
        if state == ACCEPTED:
            counts.accepted += 1
            counts.handshake_ms_sum += attempt.handshake_ms or 0.0
            counts.handshake_count += 1
        else:
            if state == "backend_failed":
                counts.backend_failed += 1
            else:
                counts.refused += 1
            self.minutes.refusal((minute, api, sub, state, status))

    def _sample(self, attempt: Attempt, minute=None) -> None:
        """Add what an open connection relayed since its last sample: four integer reads."""
        stats = attempt.stats
        now = (stats.messages_up, stats.bytes_up, stats.messages_down, stats.bytes_down)
        before = attempt.sampled
        if now == before:
            return
        attempt.sampled = now
        attempt.sampled_sum = sum(now)
        mu, bu, md, bd = (a - b for a, b in zip(now, before, strict=True))
        if minute is None:
            minute = minute_of(_utcnow())
        counts = self.minutes.counts((minute, attempt.api_id or 0, attempt.subscription_id or 0))
        counts.messages_up += mu
        counts.bytes_up += bu
        counts.messages_down += md
        counts.bytes_down += bd
        m, api = self.metrics, attempt.api_name
        m.child(m.messages, api, "up").inc(mu)
        m.child(m.bytes, api, "up").inc(bu)
        m.child(m.messages, api, "down").inc(md)
        m.child(m.bytes, api, "down").inc(bd)

    def sample_live(self) -> None:
        """Traffic of the open connections that relayed anything since the last sample.

        `Activity` hands over those whose counts moved (an idle one costs its shared pass one
        read and one comparison); `_sample` adds what each relayed since it was last sampled."""
        minute = minute_of(_utcnow())
        if minute != self._minute:
            self._new_minute(minute)
        sample = self._sample
        for entry in self.activity.take("recorder"):
            attempt = entry.attempt
            if attempt is not None:
                sample(attempt, minute)  # what it relayed since its last sample, if anything

    def _new_minute(self, minute) -> None:
        """The connections still open when a minute starts are its first `active_max`."""
        self._minute = minute
        self._peaks = dict(self.open_counts)
        for (api, sub), count in self.open_counts.items():
            counts = self.minutes.counts((minute, api, sub))
            counts.active_max = max(counts.active_max, count)

    # dropping ------------------------------------------------------------

    def _drop(self, count: int, *, why: str = "buffer") -> None:
        self.dropped += count
        self.metrics.child(self.metrics.dropped).inc(count)
        if why == "spool":
            self.metrics.child(self.metrics.spool_dropped).inc(count)
        now = time.monotonic()
        if now - self._last_warning >= DROP_WARNING_SECONDS:
            if why == "spool":
                cause = (
                    f"telemetry spool full ({self.spool.max_records} records waiting to be "
                    "written while writes fail)"
                )
            else:
                cause = f"telemetry buffer full ({self.buffer_size} records)"
            log.warning(
                "%s: dropped %d connection record(s) since the last warning, %d in all",
                cause,
                self.dropped - self._dropped_warned,
                self.dropped,
            )
            self._last_warning, self._dropped_warned = now, self.dropped

    # flushing ------------------------------------------------------------

    def start(self) -> None:
        """Begin flushing now (at process start), so batches a previous run left in a disk
        spool are sent without waiting for a first connection."""
        self._ensure_task()

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            if self.writer is None:
                return
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep recording (e.g. the disk spool could not be written)
                log.exception("telemetry flush failed")

    async def flush(self, *, force: bool = False) -> int:
        """Spool what has gathered, then write the spool unless a retry is not due yet (or
        `force`); returns how many connection records were written."""
        self.sample_live()
        self._spool_gathered()
        if not force and time.monotonic() < self._retry_at:
            return 0
        return await self._write_spool()

    def _spool_gathered(self) -> None:
        first = True
        while self.records or (first and self.minutes):
            count = min(len(self.records), self.batch_size)
            records = [self.records.popleft() for _ in range(count)]
            usage, refusals = self.minutes.take(self.gateway) if first else ([], [])
            first = False
            for record in records:
                record["gateway"] = self.gateway
            batch = {
                "batch_id": uuid.uuid4().hex,
                "records": records,
                "usage": usage,
                "refusals": refusals,
            }
            if not self.spool.add(batch):
                self._drop(len(records), why="spool")

    async def _write_spool(self) -> int:
        written = 0
        while (batch := self.spool.peek()) is not None:
            try:
                await self.writer(
                    batch_id=batch["batch_id"],
                    records=batch["records"],
                    usage=batch["usage"],
                    refusals=batch["refusals"],
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - kept in the spool and tried again later
                self._retry_delay = min(
                    max(self._retry_delay * 2, RETRY_FIRST_SECONDS), RETRY_MAX_SECONDS
                )
                self._retry_at = time.monotonic() + self._retry_delay
                self.metrics.child(self.metrics.write_failures).inc()
                log.warning(
                    "telemetry write failed (%s: %s); %d record(s) kept in the spool, "
                    "next try in %.0fs",
                    type(exc).__name__,
                    str(exc)[:200],
                    self.spool.records,
                    self._retry_delay,
                )
                break
            self.spool.done(batch)
            written += len(batch["records"])
        else:
            if self._retry_delay:
                log.info("telemetry writes work again; the spool is empty")
            self._retry_delay = self._retry_at = 0.0
        self.metrics.child(self.metrics.spooled).set(self.spool.records)
        return written

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _utcnow() -> datetime:
    return datetime.now(UTC)
