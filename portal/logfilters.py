"""Logging filters that keep server output to one line per event (issue 30, item 7)."""

import logging


class NoRefusalTracebacks(logging.Filter):
    """Drop the traceback of a request refused with a 4xx (PermissionDenied, BadRequest, ...).

    Django logs those at WARNING with exc_info: a developer opening a page they may not see is
    expected, and its one line (`Forbidden (Permission denied): /path`) says all there is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and 400 <= getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RoutineAtDebug(logging.Filter):
    """Routine traffic a library logs at INFO (httpx: one line per request a node sends to the
    control plane, heartbeats and long-polls included) goes out at DEBUG, or not at all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True
