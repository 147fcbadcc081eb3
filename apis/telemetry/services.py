"""Telemetry writes: connection records in batches, per-minute upserts, pruning by age."""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from apis.telemetry.models import ConnectionLog, RefusalMinute, TelemetryBatch, UsageMinute

# The connection log's columns, each with its default and whether its value needs the database's
# own form (dates, JSON); every other value is stored as the gateway made it (str, int, float).
_LOG_COLUMNS = [
    (f, f.get_default(), isinstance(f, models.DateTimeField | models.JSONField))
    for f in ConnectionLog._meta.concrete_fields
    if f.name != "id"
]
_USAGE_KEY = ("minute", "gateway", "api_id", "subscription_id")
_REFUSAL_KEY = (*_USAGE_KEY, "state", "status")
_USAGE_SUMS = (
    "accepted",
    "refused",
    "backend_failed",
    "messages_up",
    "bytes_up",
    "messages_down",
    "bytes_down",
    "handshake_ms_sum",
    "handshake_count",
)


@transaction.atomic
def write_batch(
    *,
    records: list[dict],
    usage: list[dict] = (),
    refusals: list[dict] = (),
    batch_id: str = "",
    batch_size=500,
) -> bool:
    """Store a gateway's batch: records as they are, figures added to their minute's row.

    With a `batch_id`, a batch already stored is skipped (False): a gateway retries a batch
    whose answer it never got, and it must not count twice."""
    if batch_id:
        try:
            with transaction.atomic():  # a savepoint: the id may be there already
                TelemetryBatch.objects.create(batch_id=batch_id, records=len(records))
        except IntegrityError:
            return False
    if records:
        _insert_records(records, batch_size)
    # Minute rows are locked in one order (their key's) by every batch: two gateway processes
    # adding to the same minutes in their own orders deadlocked (bench/hundred_k.py).
    for row in _in_key_order(UsageMinute, _USAGE_KEY, usage):
        _add_usage(row)
    for row in _in_key_order(RefusalMinute, _REFUSAL_KEY, refusals):
        _upsert(
            RefusalMinute,
            {k: row[k] for k in _REFUSAL_KEY},
            {"count": row["count"]},
            {"count": F("count") + row["count"]},
        )
    return True


def _in_key_order(model, key: tuple[str, ...], rows) -> list[dict]:
    """`rows` sorted by their unique key's values as stored (a minute given as text or in another
    time zone sorts as the same instant), the same order whichever process sends them."""
    fields = [model._meta.get_field(name) for name in key]

    def stored(row: dict) -> tuple:
        values = []
        for field in fields:
            value = field.to_python(row[field.name])
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)
            values.append(str(value))  # as text: any column's values, None too, in one fixed order
        return tuple(values)

    return sorted(rows, key=stored)


def _insert_records(records: list[dict], batch_size: int) -> None:
    """One multi-row INSERT per `batch_size` records, as tuples: `bulk_create` would build a
    model instance per record, which costs more than the insert (it runs on the gateway)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f, _, _ in _LOG_COLUMNS)
    # Only the model's own (quoted) table and column names go into the text; values are bound.
    sql = (
        f"INSERT INTO {qn(ConnectionLog._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_LOG_COLUMNS))})"
    )
    prepare = _preparers()
    rows = []
    for record in records:
        row = []
        for field, default, prepared in _LOG_COLUMNS:
            value = record.get(field.name, default)
            row.append(prepare[field.name](value) if prepared else value)
        rows.append(tuple(row))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, rows[start : start + batch_size])


def _preparers() -> dict:
    """How each date and JSON column's value is made ready for this connection's database.

    The field's own preparation costs about as much as the row's insert; two cases repeat in
    every record and are done directly, with the same result: an aware UTC date on SQLite (a
    naive UTC text, as Django stores it there) and an empty sample list (prepared once)."""
    sqlite_utc = connection.vendor == "sqlite" and str(connection.timezone) == "UTC"
    prepare = {}
    for field, _, prepared in _LOG_COLUMNS:
        if not prepared:
            continue
        if isinstance(field, models.JSONField):
            empty = field.get_db_prep_save([], connection)
            prepare[field.name] = lambda v, f=field, empty=empty: (
                empty if v == [] else f.get_db_prep_save(v, connection)
            )
        elif sqlite_utc:
            prepare[field.name] = lambda v, f=field: (
                str(v.replace(tzinfo=None))
                if isinstance(v, datetime) and v.tzinfo is UTC
                else f.get_db_prep_save(v, connection)
            )
        else:
            prepare[field.name] = lambda v, f=field: f.get_db_prep_save(v, connection)
    return prepare


def _add_usage(row: dict) -> None:
    key = {k: row[k] for k in _USAGE_KEY}
    sums = {k: row[k] for k in _USAGE_SUMS if row.get(k)}
    updates = {k: F(k) + v for k, v in sums.items()}
    if row.get("active_max"):
        updates["active_max"] = Greatest(F("active_max"), Value(row["active_max"]))
        sums["active_max"] = row["active_max"]
    if updates:
        _upsert(UsageMinute, key, sums, updates)


def _upsert(model, key: dict, values: dict, updates: dict) -> None:
    """Add to the row with `key`, creating it; works alike on SQLite and PostgreSQL."""
    if model.objects.filter(**key).update(**updates):
        return
    try:
        with transaction.atomic():  # a savepoint: another writer may create the row first
            model.objects.create(**key, **values)
    except IntegrityError:
        model.objects.filter(**key).update(**updates)


def prune(*, older_than: datetime | None = None, days: int | None = None) -> dict[str, int]:
    """Delete connection records and per-minute figures from before `older_than` (or `days`)."""
    if older_than is None:
        older_than = timezone.now() - timedelta(days=days or 0)
    deleted = {}
    with transaction.atomic():
        deleted["connection logs"] = ConnectionLog.objects.filter(
            started_at__lt=older_than
        ).delete()[0]
        deleted["usage minutes"] = UsageMinute.objects.filter(minute__lt=older_than).delete()[0]
        deleted["refusal minutes"] = RefusalMinute.objects.filter(minute__lt=older_than).delete()[0]
        deleted["batch ids"] = TelemetryBatch.objects.filter(received_at__lt=older_than).delete()[0]
    return deleted
