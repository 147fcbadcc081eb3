"""Live connections, writes: what gateway processes report, and disconnect requests for them.

A process reports deltas (opened, closed), traffic counts and, now and then, its full list
(`gateway.sessions`); the answer names the connections an administrator asked it to close.
A report that only asks (nothing changed) reads one indexed query and writes nothing.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apis.nodes.reports import clean_live_report
from apis.telemetry.models import LiveConnection, LiveWorker

STALE_SECONDS = 10  # a process that has not reported this long is gone: its connections too
DEFAULT_REASON = "closed by an administrator"
OWNER_REASON = "closed by the subscriber"
COUNT_FIELDS = ("messages_up", "bytes_up", "messages_down", "bytes_down")
ENTRY_FIELDS = (
    "api_id",
    "api_name",
    "product_id",
    "subscription_id",
    "client_ip",
    "user_agent",
    "opened_at",
    *COUNT_FIELDS,
)


def stale_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=STALE_SECONDS)


def _row(process: LiveWorker, entry: dict, now: datetime) -> LiveConnection:
    return LiveConnection(
        connection_id=entry["id"],
        process=process,
        counted_at=now,
        **{name: entry.get(name) for name in ENTRY_FIELDS if name in entry},
    )


def _update_counts(process: LiveWorker, counts: list, now: datetime) -> None:
    by_id = {row[0]: row[1:] for row in counts}
    rows = list(LiveConnection.objects.filter(process=process, connection_id__in=by_id))
    for row in rows:
        for name, value in zip(COUNT_FIELDS, by_id[row.connection_id], strict=True):
            setattr(row, name, value)
        row.counted_at = now
    LiveConnection.objects.bulk_update(rows, [*COUNT_FIELDS, "counted_at"], batch_size=500)


def _replace_all(process: LiveWorker, entries: list[dict], now: datetime) -> None:
    """A full report: drop what the process no longer has, add what was missed, set counts."""
    wanted = {entry["id"]: entry for entry in entries}
    LiveConnection.objects.filter(process=process).exclude(connection_id__in=wanted).delete()
    known = set(
        LiveConnection.objects.filter(process=process).values_list("connection_id", flat=True)
    )
    LiveConnection.objects.bulk_create(
        [_row(process, entry, now) for key, entry in wanted.items() if key not in known],
        batch_size=500,
        ignore_conflicts=True,
    )
    _update_counts(
        process,
        [[key, *(wanted[key][name] for name in COUNT_FIELDS)] for key in known & wanted.keys()],
        now,
    )


def record_live_report(*, gateway_name: str, report: dict) -> list[dict]:
    """Apply one process's report (gateway.sessions; checked by clean_live_report, which raises
    BadReport) and return the disconnects asked of it: [{"id": connection id, "reason": text}]."""
    report = clean_live_report(report)
    now = timezone.now()
    writes = report["full"] or report["opened"] or report["closed"] or report["counts"]
    key = {"gateway": gateway_name, "node_id": report["node_id"], "worker": report["worker"]}
    if writes or report["keepalive"]:
        with transaction.atomic():
            process, _ = LiveWorker.objects.update_or_create(**key, defaults={"reported_at": now})
            if report["full"]:
                _replace_all(process, report["opened"], now)
            else:
                if report["closed"]:
                    LiveConnection.objects.filter(
                        process=process, connection_id__in=report["closed"]
                    ).delete()
                if report["opened"]:
                    LiveConnection.objects.bulk_create(
                        [_row(process, entry, now) for entry in report["opened"]],
                        batch_size=500,
                        ignore_conflicts=True,
                    )
                if report["counts"]:
                    _update_counts(process, report["counts"], now)
            # Processes that went silent (died, or lost the control plane): gone with their rows.
            LiveWorker.objects.filter(reported_at__lt=stale_before(now)).delete()
    asked = LiveConnection.objects.filter(
        process__gateway=gateway_name,
        process__node_id=report["node_id"],
        process__worker=report["worker"],
        disconnect_requested_at__isnull=False,
    ).values_list("connection_id", "disconnect_reason")
    return [{"id": connection_id, "reason": reason} for connection_id, reason in asked]


def request_disconnect(*, connection: LiveConnection, reason: str = "") -> LiveConnection:
    """Ask the connection's process to close it (client 1008 with `reason`, backend 1001); the
    process learns it at its next report, within about half a second."""
    reason = " ".join((reason or DEFAULT_REASON).split())
    while len(reason.encode()) > 120:  # a close frame's reason holds at most 123 bytes
        reason = reason[:-1]
    connection.disconnect_reason = reason
    connection.disconnect_requested_at = timezone.now()
    connection.save(update_fields=["disconnect_reason", "disconnect_requested_at"])
    return connection
