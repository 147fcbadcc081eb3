"""A process's live-connection reports as stored: full lists replace, deltas and counts update."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apis.telemetry import live_services
from apis.telemetry.models import LiveConnection

pytestmark = pytest.mark.django_db

OPENED = "2026-11-30T12:00:00+00:00"


def entry(n: int, *counts: int) -> dict:
    entry = {"id": f"{n:032x}", "api_id": 1, "api_name": "echo", "opened_at": OPENED}
    if counts:
        entry |= dict(zip(live_services.COUNT_FIELDS, counts, strict=True))
    return entry


def report(**parts) -> dict:
    return {"node_id": "node-1", "worker": "7", **parts}


def stored() -> dict[str, tuple]:
    rows = LiveConnection.objects.values_list("connection_id", *live_services.COUNT_FIELDS)
    return {row[0]: row[1:] for row in rows}


def test_a_full_list_drops_adds_and_writes_only_the_counts_that_changed():
    first = [entry(1), entry(2, 1, 10, 1, 10), entry(3)]
    live_services.record_live_report(gateway_name="g", report=report(full=True, opened=first))
    assert stored() == {
        f"{1:032x}": (0, 0, 0, 0),
        f"{2:032x}": (1, 10, 1, 10),
        f"{3:032x}": (0, 0, 0, 0),
    }
    before = timezone.now() - timedelta(hours=1)
    LiveConnection.objects.update(counted_at=before)

    second = [entry(2, 1, 10, 1, 10), entry(3, 5, 50, 4, 40), entry(4)]
    live_services.record_live_report(gateway_name="g", report=report(full=True, opened=second))

    assert stored() == {
        f"{2:032x}": (1, 10, 1, 10),
        f"{3:032x}": (5, 50, 4, 40),
        f"{4:032x}": (0, 0, 0, 0),
    }
    counted = dict(LiveConnection.objects.values_list("connection_id", "counted_at"))
    assert counted[f"{2:032x}"] == before  # unchanged: not written
    assert counted[f"{3:032x}"] > before


def test_counts_rows_update_their_connections_only():
    opened = [entry(1), entry(2)]
    live_services.record_live_report(gateway_name="g", report=report(full=True, opened=opened))
    counts = [[f"{2:032x}", 3, 30, 2, 20]]
    live_services.record_live_report(gateway_name="g", report=report(counts=counts))
    assert stored() == {f"{1:032x}": (0, 0, 0, 0), f"{2:032x}": (3, 30, 2, 20)}


def test_a_full_list_of_unchanged_connections_writes_no_row():
    opened = [entry(n, n, n, n, n) for n in range(1, 1201)]
    live_services.record_live_report(gateway_name="g", report=report(full=True, opened=opened))
    with CaptureQueriesContext(connection) as queries:
        live_services.record_live_report(gateway_name="g", report=report(full=True, opened=opened))
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert "INSERT" not in statements and statements.count("UPDATE") == 1  # the process's time
    assert len(stored()) == 1200
