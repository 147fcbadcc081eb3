"""Connection records stored as tuples read back exactly as the gateway made them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apis.telemetry import services
from apis.telemetry.models import ConnectionLog

pytestmark = pytest.mark.django_db


def record(correlation_id: str, started_at: datetime, **extra) -> dict:
    return {
        "correlation_id": correlation_id,
        "gateway": "g1",
        "api_id": 7,
        "api_name": "echo",
        "client_ip": "127.0.0.1",
        "path": "/echo",
        "started_at": started_at,
        "ended_at": started_at + timedelta(milliseconds=3),
        "state": "accepted",
        "status": 101,
        "duration_ms": 3.0,
        **extra,
    }


def test_dates_samples_and_defaults_round_trip():
    utc = datetime(2026, 11, 30, 14, 0, 0, 123456, tzinfo=UTC)
    whole = datetime(2026, 11, 30, 14, 0, 1, tzinfo=UTC)  # no microseconds
    other_zone = datetime(2026, 11, 30, 15, 0, 2, 5, tzinfo=timezone(timedelta(hours=1)))
    samples = [{"direction": "up", "size": 2, "text": "hi"}]
    services.write_batch(
        records=[
            record("a" * 32, utc, message_samples=samples, close_code=1000),
            record("b" * 32, whole),
            record("c" * 32, other_zone),
        ],
        batch_id="batch-1",
    )
    rows = {row.correlation_id[0]: row for row in ConnectionLog.objects.all()}
    assert rows["a"].started_at == utc and rows["a"].ended_at == utc + timedelta(milliseconds=3)
    assert rows["b"].started_at == whole
    assert rows["c"].started_at == other_zone
    assert rows["a"].message_samples == samples and rows["b"].message_samples == []
    assert (rows["a"].close_code, rows["b"].close_code) == (1000, None)
    assert (rows["b"].messages_up, rows["b"].reason, rows["b"].error) == (0, "", "")
    assert ConnectionLog.objects.filter(started_at__lt=whole).count() == 1  # dates compare
    # the same batch again is not stored twice
    assert services.write_batch(records=[record("d" * 32, utc)], batch_id="batch-1") is False
