"""Retries the test database flush when PostgreSQL picks it as a deadlock victim.

Transactional tests end with `manage.py flush` (one TRUNCATE of every table) while the
gateway processes that a test session keeps running may still write telemetry and heartbeats.
PostgreSQL then aborts one side of the deadlock; aborting the flush is the right choice for
the server, and retrying it is the documented answer to a deadlock for the client.
"""

import time

from django.core.management.base import CommandError
from django.core.management.commands import flush

ATTEMPTS = 5


def retry_flush_on_deadlock() -> None:
    original = flush.Command.handle
    if getattr(original, "retries_deadlocks", False):
        return

    def handle(self, **options):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return original(self, **options)
            except CommandError as exc:
                if attempt == ATTEMPTS or "deadlock detected" not in str(exc.__cause__):
                    raise
                time.sleep(0.1 * attempt)

    handle.retries_deadlocks = True
    flush.Command.handle = handle
