"""Per-minute figures kept in memory between flushes: keyed by minute, API and subscription."""

from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(slots=True)
class MinuteCounts:
    accepted: int = 0
    refused: int = 0
    backend_failed: int = 0
    active_max: int = 0
    messages_up: int = 0
    bytes_up: int = 0
    messages_down: int = 0
    bytes_down: int = 0
    handshake_ms_sum: float = 0.0
    handshake_count: int = 0

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


UsageKey = tuple[datetime, int, int]  # minute, api id (0 = none), subscription id (0 = none)
RefusalKey = tuple[datetime, int, int, str, int]  # ... then state and HTTP status


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class MinuteTable:
    """The figures gathered since the last flush; `take()` hands them over and starts afresh."""

    def __init__(self) -> None:
        self.usage: dict[UsageKey, MinuteCounts] = {}
        self.refusals: dict[RefusalKey, int] = {}

    def counts(self, key: UsageKey) -> MinuteCounts:
        found = self.usage.get(key)
        if found is None:
            found = self.usage[key] = MinuteCounts()
        return found

    def refusal(self, key: RefusalKey) -> None:
        self.refusals[key] = self.refusals.get(key, 0) + 1

    def __bool__(self) -> bool:
        return bool(self.usage or self.refusals)

    def take(self, gateway: str) -> tuple[list[dict], list[dict]]:
        usage = [
            {"minute": m, "gateway": gateway, "api_id": a, "subscription_id": s, **c.as_dict()}
            for (m, a, s), c in self.usage.items()
        ]
        refusals = [
            {
                "minute": m,
                "gateway": gateway,
                "api_id": a,
                "subscription_id": s,
                "state": state,
                "status": status,
                "count": n,
            }
            for (m, a, s, state, status), n in self.refusals.items()
        ]
        self.usage, self.refusals = {}, {}
        return usage, refusals
