"""When to retry a 429 or 503 answer, and how long to wait: Retry-After, bounded twice over."""

import email.utils
import time
from dataclasses import dataclass

RETRIED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_attempts` requests in all, and at most `max_total_wait` seconds of waiting.

    The server's Retry-After (seconds or an HTTP date) is honoured; without one the wait doubles
    from `backoff`. A wait that would go past the budget is not started: the error is raised at
    once, so a caller never sleeps for nothing.
    """

    max_attempts: int = 4
    max_total_wait: float = 30.0
    backoff: float = 0.5

    def wait_before_retry(
        self, status: int, retry_after: str | None, attempt: int, waited: float
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up (raise)."""
        if status not in RETRIED_STATUSES or attempt >= self.max_attempts:
            return None
        delay = parse_retry_after(retry_after)
        if delay is None:
            delay = self.backoff * 2 ** (attempt - 1)
        if waited + delay > self.max_total_wait:
            return None
        return delay


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
