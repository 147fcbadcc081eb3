"""Telemetry batches and live reports written at once by many processes: no deadlock, no loss."""

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apis.telemetry import live_services, services
from apis.telemetry.models import (
    LiveConnection,
    LiveWorker,
    RefusalMinute,
    TelemetryBatch,
    UsageMinute,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 25  # per thread; each thread also stops after SECONDS
SECONDS = 40
MINUTE = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
KEYS = [
    (MINUTE + timedelta(minutes=m), api, sub)
    for m in range(2)
    for api in (1, 2)
    for sub in range(5)
]


def run_together(jobs) -> list[str]:
    """Run each job (a function of its round) in its own thread and database connection, all
    starting at once; the errors they raised, as text."""
    errors: list[str] = []
    start = threading.Barrier(len(jobs))
    deadline = time.monotonic() + SECONDS

    def thread(job) -> None:
        try:
            start.wait()
            for round_ in range(ROUNDS):
                if time.monotonic() > deadline:
                    break
                job(round_)
        except Exception as error:  # noqa: BLE001 - every failure is the test's finding
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=thread, args=(job,)) for job in jobs]
    for each in threads:
        each.start()
    for each in threads:
        each.join(SECONDS + 30)
    return errors


def telemetry_writer(seed: int):
    """A gateway process's batches: every minute row it counted, in its own order."""
    shuffle = random.Random(seed).shuffle

    def write(round_: int) -> None:
        keys = list(KEYS)
        shuffle(keys)
        usage = [
            {"minute": m, "gateway": "g", "api_id": a, "subscription_id": s, "accepted": 1}
            for m, a, s in keys
        ]
        refusals = [
            {"minute": m, "gateway": "g", "api_id": a, "subscription_id": s}
            | {"state": "refused", "status": 401, "count": 1}
            for m, a, s in keys
        ]
        services.write_batch(
            records=[], usage=usage, refusals=refusals, batch_id=f"{seed}:{round_}"
        )

    return write


def live_reporter(worker: int):
    """A gateway process's live reports: its full list, then connections opening and closing."""

    def entry(n: int) -> dict:
        return {
            "id": f"{worker:08x}{n:024x}",
            "api_id": 1 + n % 2,
            "subscription_id": n % 5,
            "opened_at": MINUTE.isoformat(),
        }

    def report(round_: int) -> None:
        base = {"node_id": f"node-{worker % 2}", "worker": str(worker)}
        if round_ % 3 == 0:
            parts = {"full": True, "opened": [entry(n) for n in range(round_, round_ + 40)]}
        else:
            parts = {
                "opened": [entry(n) for n in range(round_ + 40, round_ + 50)],
                "closed": [entry(n)["id"] for n in range(round_, round_ + 5)],
                "counts": [[entry(n)["id"], 1, 10, 1, 10] for n in range(round_ + 5, round_ + 30)],
            }
        live_services.record_live_report(gateway_name="g", report=base | parts)

    return report


def test_batches_adding_to_the_same_minutes_in_their_own_orders_do_not_deadlock():
    writers = [telemetry_writer(seed) for seed in range(6)]

    errors = run_together(writers)

    assert not errors, "\n".join(errors)
    batches = TelemetryBatch.objects.count()  # those written before the time limit, if it hit
    assert batches > 0
    assert UsageMinute.objects.count() == len(KEYS)
    assert set(UsageMinute.objects.values_list("accepted", flat=True)) == {batches}
    assert set(RefusalMinute.objects.values_list("count", flat=True)) == {batches}


def test_live_reports_removing_silent_processes_while_they_report_do_not_deadlock_or_fail(
    monkeypatch,
):
    # Every other process counts as silent at each report, so reports remove processes that
    # are reporting at that very moment (under load, reports late by seconds do this).
    monkeypatch.setattr(live_services, "STALE_SECONDS", 0)
    reporters = [live_reporter(worker) for worker in range(6)]

    errors = run_together(reporters)

    assert not errors, "\n".join(errors)
    assert LiveWorker.objects.exists()
    # What is left is consistent: every live connection's process is there.
    assert not LiveConnection.objects.exclude(process__in=LiveWorker.objects.all()).exists()
