"""Live connections, writes: what gateway processes report, and disconnect requests for them.

A process reports deltas (opened, closed), traffic counts and, now and then, its full list
(`gateway.node.sessions`); the answer names the connections an administrator asked it to close
and carries the control channel's messages for it (apis.telemetry.control_channel).
A report that only asks (nothing changed) reads one indexed query and writes nothing.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from apis.nodes.reports import clean_live_report
from apis.telemetry import control_channel
from apis.telemetry.models import LiveConnection, LiveWorker, PendingMessage

STALE_SECONDS = 10  # a process that has not reported this long is gone: its connections too
DEFAULT_REASON = "closed by an administrator"
OWNER_REASON = "closed by the subscriber"
BATCH = 500  # rows per INSERT or DELETE: under every database's parameter limit
COUNT_FIELDS = ("messages_up", "bytes_up", "messages_down", "bytes_down")
ENTRY_FIELDS = (
    "api_id",
    "api_name",
    "product_id",
    "subscription_id",
    "client_ip",
    "user_agent",
    "opened_at",
    "tags",
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
    """Counts as [connection id, messages up, bytes up, messages down, bytes down] rows.

    One prepared UPDATE run with executemany: `bulk_update` builds a CASE expression that costs
    about a millisecond of CPU per row, which at thousands of connections stalled the gateway
    process whose thread wrote it."""
    if not counts:
        return
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(name)} = %s" for name in (*COUNT_FIELDS, "counted_at"))
    # Names from the model, every value bound.
    sql = (
        f"UPDATE {quote(LiveConnection._meta.db_table)} SET {sets} "  # noqa: S608
        f"WHERE {quote('process_id')} = %s AND {quote('connection_id')} = %s"
    )
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row[1:], at, process.pk, row[0]) for row in counts])


def _replace_all(process: LiveWorker, entries: list[dict], now: datetime) -> None:
    """A full report: drop what the process no longer has, add what was missed, and write the
    counts that differ from the stored ones (an idle connection writes nothing)."""
    wanted = {entry["id"]: entry for entry in entries}
    stored = {
        row[0]: row[1:]
        for row in LiveConnection.objects.filter(process=process).values_list(
            "connection_id", *COUNT_FIELDS
        )
    }
    gone = [key for key in stored if key not in wanted]
    for start in range(0, len(gone), BATCH):
        LiveConnection.objects.filter(
            process=process, connection_id__in=gone[start : start + BATCH]
        ).delete()
    LiveConnection.objects.bulk_create(
        [_row(process, entry, now) for key, entry in wanted.items() if key not in stored],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    changed = []
    for key, entry in wanted.items():
        counts = tuple(entry[name] for name in COUNT_FIELDS)
        if key in stored and counts != stored[key]:
            changed.append([key, *counts])
    _update_counts(process, changed, now)


def _remove_silent(now: datetime) -> None:
    """Remove the processes that went silent (died, or lost the control plane), with their rows.

    Each is locked first, and only if no report holds it (SKIP LOCKED): a report takes its own
    process row before writing its connections, so it never waits on a sweep while holding
    connection rows a sweep wants, and two sweeps share out the silent processes instead of
    deleting the same rows in their own orders (both deadlocked). Locked, a process cannot get
    new connections until it is gone (the foreign key's check waits), and a process that
    reported after this report's snapshot no longer matches under the lock: its row is kept."""
    silent = list(
        LiveWorker.objects.select_for_update(skip_locked=True)
        .filter(reported_at__lt=stale_before(now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not silent:
        return
    # Children first, then the processes (no row of theirs can be added while they are locked).
    PendingMessage.objects.filter(process_id__in=silent).delete()
    LiveConnection.objects.filter(process_id__in=silent).delete()
    LiveWorker.objects.filter(pk__in=silent).delete()


def record_live_report(*, gateway_name: str, report: dict, keep=None) -> list[dict]:
    """Apply one process's report (gateway.node.sessions; checked by clean_live_report, which raises
    BadReport) and return the disconnects asked of it: [{"id": connection id, "reason": text}].

    `keep(opened entries)` returns those the reporter may list (a node: its own gateway's);
    the others are not stored, and a full list then removes any stored before."""
    report = clean_live_report(report)
    if keep is not None and report["opened"]:
        report["opened"] = keep(report["opened"])
    now = timezone.now()
    writes = report["full"] or report["opened"] or report["closed"] or report["counts"]
    writes = writes or report["answered"]
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
                        batch_size=BATCH,
                        ignore_conflicts=True,
                    )
                if report["counts"]:
                    _update_counts(process, report["counts"], now)
            if report["answered"]:
                control_channel.record_answers(process=process, answers=report["answered"])
            _remove_silent(now)
    asked = (
        LiveConnection.objects.filter(
            process__gateway=gateway_name,
            process__node_id=report["node_id"],
            process__worker=report["worker"],
            disconnect_requested_at__isnull=False,  # the partial index live_disconnect_asked
        )
        .order_by()
        .values_list("connection_id", "disconnect_reason")
    )
    return [{"id": connection_id, "reason": reason} for connection_id, reason in asked]


def answer_live_report(*, gateway_name: str, report: dict, keep=None) -> dict:
    """`record_live_report`, and the answer a process gets: {"disconnect": [...], "messages":
    [control channel messages for it, as gateway.catalog.delivery requests]}."""
    asked = record_live_report(gateway_name=gateway_name, report=report, keep=keep)
    messages = control_channel.take(
        gateway=gateway_name, node_id=str(report.get("node_id")), worker=str(report.get("worker"))
    )
    return {"disconnect": asked, "messages": messages}


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
