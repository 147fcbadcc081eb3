"""One connection attempt as the consumer sees it; each step costs a few attribute writes.

The consumer calls `saw`, `identify`, `backend_connecting`, `backend_connected`, then either
`refused`, `failed` or `accepted` ... `closed`; the recorder turns the outcome into a record.
"""

import time
from datetime import UTC, datetime, timedelta

from gateway.logredact import scrub

ACCEPTED, REFUSED, BACKEND_FAILED, ERROR = "accepted", "refused", "backend_failed", "error"


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class Attempt:
    __slots__ = (
        "recorder",
        "correlation_id",
        "path",
        "client_ip",
        "user_agent",
        "started_at",
        "started",
        "snapshot",
        "api_id",
        "api_name",
        "product_id",
        "product_name",
        "subscription_id",
        "subscription_name",
        "backend_started",
        "backend_connect_ms",
        "handshake_ms",
        "stats",
        "sampled",
        "sampled_sum",
        "done",
    )
    decisions = None  # the policies' outcomes: heard only by a traced attempt (TracedAttempt)

    def __init__(self, recorder, scope: dict, correlation_id: str) -> None:
        self.recorder = recorder
        self.correlation_id = correlation_id
        self.path = (scope.get("path") or "")[:300]
        client = scope.get("client") or ("", 0)
        self.client_ip = client[0] or ""
        self.user_agent = _header(scope, b"user-agent")[:300]
        self.started_at = datetime.now(UTC)
        self.started = time.perf_counter()
        self.snapshot = None
        self.api_id = self.product_id = self.subscription_id = None
        self.api_name = self.product_name = self.subscription_name = ""
        self.backend_started = self.backend_connect_ms = self.handshake_ms = None
        self.stats = None
        self.sampled = (0, 0, 0, 0)  # messages/bytes up, messages/bytes down already counted
        self.sampled_sum = 0  # their sum: unchanged means nothing new to count
        self.done = False

    # the handshake -------------------------------------------------------------------------

    def saw(self, snapshot) -> None:
        """The snapshot the handshake runs against: names the API even if the key is refused.

        The route is looked up once, by the handshake; only a refusal before `identify` looks
        it up here (`_name_api`)."""
        self.snapshot = snapshot

    def _name_api(self) -> None:
        if self.api_id is None and self.snapshot is not None:
            found = self.snapshot.find_route(self.path)
            if found is not None:
                self.api_id, self.api_name = found[0].api.id, found[0].api.name

    def identify(self, handshake) -> None:
        api = handshake.route.api
        self.api_id, self.api_name = api.id, api.name
        self.client_ip = handshake.client_ip[:45] or self.client_ip
        subscription = handshake.subscription
        if subscription is None:
            return
        self.subscription_id, self.subscription_name = subscription.id, subscription.name
        if subscription.product_id is not None:
            self.product_id = subscription.product_id
            names = self.snapshot.product_names if self.snapshot is not None else {}
            self.product_name = names.get(subscription.product_id, "")

    def backend_connecting(self) -> None:
        self.backend_started = time.perf_counter()

    def backend_connected(self) -> None:
        self.backend_connect_ms = (time.perf_counter() - self.backend_started) * 1000

    # outcomes ----------------------------------------------------------------------------------

    def refused(self, refusal) -> None:
        self._name_api()
        state = BACKEND_FAILED if self.backend_started is not None else REFUSED
        error = scrub(refusal.reason) if state == BACKEND_FAILED else ""
        if self.backend_started is not None and self.backend_connect_ms is None:
            self.backend_connect_ms = (time.perf_counter() - self.backend_started) * 1000
        self.recorder.finish(self, state, refusal.status, scrub(refusal.reason), error=error)

    def failed(self, error: str) -> None:
        if not self.done:
            self._name_api()
            self.recorder.finish(self, ERROR, 500, "", error=scrub(error)[:2000])

    def accepted(self, stats, handshake_ms: float) -> None:
        self.stats, self.handshake_ms = stats, handshake_ms
        self.recorder.opened(self)

    def closed(self) -> None:
        if not self.done:
            self.recorder.finish(self, ACCEPTED, 101, "")

    # the record --------------------------------------------------------------------------------

    def record(self, state: str, status: int, reason: str, error: str) -> dict:
        duration_ms = (time.perf_counter() - self.started) * 1000
        stats = self.stats
        record = {
            "correlation_id": self.correlation_id,
            "api_id": self.api_id,
            "api_name": self.api_name,
            "product_id": self.product_id,
            "product_name": self.product_name,
            "subscription_id": self.subscription_id,
            "subscription_name": self.subscription_name,
            "client_ip": self.client_ip,
            "user_agent": self.user_agent,
            "path": self.path,
            "started_at": self.started_at,
            "state": state,
            "status": status,
            "reason": reason[:300],
            "backend_connect_ms": self.backend_connect_ms,
            "handshake_ms": self.handshake_ms,
            "ended_at": self.started_at + timedelta(milliseconds=duration_ms),
            "duration_ms": duration_ms,
            "error": error,
        }
        if stats is not None:
            record.update(
                close_code=stats.close_code,
                close_reason=scrub(stats.close_reason)[:200] if stats.close_reason else "",
                closed_by=stats.closed_by,
                messages_up=stats.messages_up,
                bytes_up=stats.bytes_up,
                messages_down=stats.messages_down,
                bytes_down=stats.bytes_down,
                messages_dropped=stats.messages_dropped,
                message_samples=[
                    {**sample, "text": scrub(sample["text"])} for sample in stats.message_samples
                ]
                if stats.message_samples
                else [],
            )
        return record
