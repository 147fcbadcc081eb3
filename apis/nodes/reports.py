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
