"""A logging formatter that writes one JSON object per line, with the correlation id."""

import json
import logging
import re
from datetime import UTC, datetime

from gateway.logredact import scrub

_CORRELATION = re.compile(r"\bcorrelation=([0-9a-f]{32})\b")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, correlation_id (from `extra` or the message), exc."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()  # RedactSecrets has already scrubbed it
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        correlation = getattr(record, "correlation_id", None)
        if correlation is None:
            found = _CORRELATION.search(message)
            correlation = found.group(1) if found else None
        if correlation:
            entry["correlation_id"] = correlation
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
