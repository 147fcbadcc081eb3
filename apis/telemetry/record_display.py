"""How the log detail page shows a connection record: labels, rounded durations, one date format."""

from datetime import datetime

from django.utils import timezone

from apis.telemetry.models import ConnectionLog

# Labels people read ("Client IP", not "Client ip"); fields not named here use their verbose name.
LABELS = {
    "correlation_id": "Correlation ID",
    "api_id": "API ID",
    "api_name": "API",
    "product_id": "Product ID",
    "product_name": "Product",
    "subscription_id": "Subscription ID",
    "subscription_name": "Subscription",
    "client_ip": "Client IP",
    "user_agent": "User agent",
    "path": "Path",
    "started_at": "Started",
    "ended_at": "Ended",
    "status": "HTTP status",
    "backend_connect_ms": "Backend connect time",
    "handshake_ms": "Handshake time",
    "duration_ms": "Duration",
    "close_code": "Close code",
    "close_reason": "Close reason",
    "closed_by": "Closed by",
    "messages_up": "Messages up",
    "bytes_up": "Bytes up",
    "messages_down": "Messages down",
    "bytes_down": "Bytes down",
    "messages_dropped": "Messages dropped by policy",
}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # the Logs list's format, in the site's time zone


def milliseconds(value: float) -> str:
    """12.3 ms below a second, 4.56 s below a minute, then 3 min 7 s."""
    if value < 1000:
        return f"{value:.1f} ms"
    seconds = value / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def display(name: str, value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime(DATE_FORMAT)
            + " "
            + timezone.get_current_timezone_name()
        )
    if name.endswith("_ms"):
        return milliseconds(float(value))
    return str(value)


def record_fields(record: ConnectionLog) -> list[tuple[str, str, str]]:
    """(field name, label, shown value) for every field but the row id."""
    return [
        (
            f.name,
            LABELS.get(f.name, str(f.verbose_name).capitalize()),
            display(f.name, getattr(record, f.name)),
        )
        for f in ConnectionLog._meta.concrete_fields
        if f.name not in ("id", "message_samples")
    ]


DIRECTIONS = {"up": "client → backend", "down": "backend → client"}


def message_samples(record: ConnectionLog) -> list[dict[str, str]]:
    """log-messages' samples as rows: direction, time, size and the (cut, redacted) text."""
    rows = []
    for sample in record.message_samples or []:
        at = datetime.fromtimestamp(float(sample.get("at", 0)), tz=timezone.get_current_timezone())
        rows.append(
            {
                "direction": DIRECTIONS.get(sample.get("direction"), "?"),
                "at": at.strftime(DATE_FORMAT),
                "size": str(sample.get("size", "")),
                "text": str(sample.get("text", "")),
            }
        )
    return rows
