"""Checking what a node reports (heartbeats) before it is stored: types, ranges, lengths."""

from datetime import datetime

TEXT_LIMITS = {"node_id": 100, "worker": 40, "hostname": 255, "version": 50}
COUNTS = {"revision": 0, "workers": 1, "open_connections": 0}


class BadReport(ValueError):
    pass


def clean_heartbeat(data) -> dict:
    if not isinstance(data, dict):
        raise BadReport("expected a JSON object")
    report = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise BadReport(f"{name} must be text of at most {limit} characters")
        report[name] = value
    if not report["node_id"] or not report["worker"]:
        raise BadReport("node_id and worker are required")
    for name, minimum in COUNTS.items():
        value = data.get(name, minimum)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise BadReport(f"{name} must be an integer >= {minimum}")
        report[name] = value
    error = data.get("last_error", "")
    if not isinstance(error, str):
        raise BadReport("last_error must be text")
    report["last_error"] = error[:500]
    started = data.get("started_at")
    if started is not None:
        try:
            report["started_at"] = datetime.fromisoformat(started)
        except (TypeError, ValueError):
            raise BadReport("started_at must be an ISO 8601 date and time") from None
    return report


MAX_LIVE_ENTRIES = 20_000  # a process holds at most about 10,000 connections (20,000 files)
LIVE_TEXT = {"api_name": 80, "client_ip": 45, "user_agent": 200}
LIVE_COUNTS = ("messages_up", "bytes_up", "messages_down", "bytes_down")


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadReport(f"{name} must be an integer >= 0")
    return value


def _optional_id(value, name: str) -> int | None:
    return None if value is None else _count(value, name)


def _connection_id(value) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 32:
        raise BadReport("a connection id is text of 1 to 32 characters")
    return value


def _list(data: dict, name: str) -> list:
    value = data.get(name, [])
    if not isinstance(value, list) or len(value) > MAX_LIVE_ENTRIES:
        raise BadReport(f"{name} must be a list of at most {MAX_LIVE_ENTRIES} items")
    return value


def _live_entry(entry) -> dict:
    if not isinstance(entry, dict):
        raise BadReport("each opened connection must be a JSON object")
    clean = {"id": _connection_id(entry.get("id"))}
    clean["api_id"] = _count(entry.get("api_id"), "api_id")
    for name in ("product_id", "subscription_id"):
        clean[name] = _optional_id(entry.get(name), name)
    for name, limit in LIVE_TEXT.items():
        value = entry.get(name, "")
        if not isinstance(value, str):
            raise BadReport(f"{name} must be text")
        clean[name] = value[:limit]
    try:
        clean["opened_at"] = datetime.fromisoformat(entry.get("opened_at"))
    except (TypeError, ValueError):
        raise BadReport("opened_at must be an ISO 8601 date and time") from None
    for name in LIVE_COUNTS:
        clean[name] = _count(entry.get(name, 0), name)
    clean["tags"] = _tags(entry.get("tags") or {})
    return clean


MAX_TAGS = 8


def _tags(value) -> dict[str, str]:
    """set-connection-tag's tags: at most 8, names up to 40 and values up to 100 characters."""
    if not isinstance(value, dict) or len(value) > MAX_TAGS:
        raise BadReport(f"tags must be an object of at most {MAX_TAGS} entries")
    for name, text in value.items():
        if not 0 < len(name) <= 40 or not isinstance(text, str) or len(text) > 100:
            raise BadReport("a tag is a name of 1 to 40 and a value of at most 100 characters")
        if "\x00" in name or "\x00" in text:
            raise BadReport("a tag holds no NUL character")
    return dict(value)


def clean_live_report(data) -> dict:
    """A process's live connections report (gateway.node.sessions): deltas, counts or the list."""
    if not isinstance(data, dict):
        raise BadReport("expected a JSON object")
    report = {}
    for name in ("node_id", "worker"):
        value = data.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= TEXT_LIMITS[name]:
            raise BadReport(f"{name} must be text of 1 to {TEXT_LIMITS[name]} characters")
        report[name] = value
    for name in ("full", "keepalive"):
        report[name] = data.get(name, False) is True
    report["opened"] = [_live_entry(entry) for entry in _list(data, "opened")]
    report["closed"] = [_connection_id(value) for value in _list(data, "closed")]
    counts = []
    for row in _list(data, "counts"):
        if not isinstance(row, list) or len(row) != 1 + len(LIVE_COUNTS):
            raise BadReport(
                "a counts row is [id, messages up, bytes up, messages down, bytes down]"
            )
        counts.append([_connection_id(row[0]), *(_count(v, "a count") for v in row[1:])])
    report["counts"] = counts
    report["answered"] = _answered(data.get("answered") or {})
    return report


MAX_ANSWERED = 64  # control channel messages answered in one report (gateway.node.sessions)


def _answered(value) -> dict:
    """{message id: {connection id: outcome}}: how the control channel's messages ended."""
    if not isinstance(value, dict) or len(value) > MAX_ANSWERED:
        raise BadReport(f"answered must be an object of at most {MAX_ANSWERED} entries")
    for results in value.values():
        if not isinstance(results, dict) or len(results) > MAX_LIVE_ENTRIES:
            raise BadReport("each answer is an object of connection ids and outcomes")
    return value
