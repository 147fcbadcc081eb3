"""Helpers for the telemetry tests: bounded waits for the recorder's flush, /metrics scrapes,
and stored rows for the Metrics and Logs pages (written through the real telemetry service)."""

import time
import urllib.request
from datetime import timedelta

from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apis.telemetry import live_services


def wait_for(read, *, timeout: float = 10.0, interval: float = 0.05):
    """Call `read()` until it returns something truthy, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def fetch_metrics(server, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"{server.http_url}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def parse_metrics(text: str) -> dict[tuple, float]:
    """{(sample name, (sorted label pairs)): value} from the Prometheus text format."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def connection_record(api, n: int, **fields) -> dict:
    """A connection log row for `api` (as a gateway batch carries it), started n seconds ago;
    an accepted connection of subscription 5 with a little traffic unless `fields` say else."""
    values = {
        "correlation_id": f"{n:032x}",
        "gateway": "managed",
        "api_id": api.id,
        "api_name": api.name,
        "subscription_id": 5,
        "subscription_name": "Team A",
        "client_ip": "127.0.0.1",
        "user_agent": "tests",
        "path": "/echo",
        "started_at": timezone.now() - timedelta(seconds=n),
        "state": "accepted",
        "status": 101,
        "close_code": 1000,
        "closed_by": "client",
        "messages_up": 3,
        "bytes_up": 30,
        "messages_down": 4,
        "bytes_down": 40,
        "duration_ms": 12.0,
    }
    values.update(fields)
    return values


def usage_row(api, **counts) -> dict:
    """One minute's figures for `api` (this minute unless `minute=` is given)."""
    row = {"minute": timezone.now().replace(second=0, microsecond=0), "gateway": "managed"}
    row.update(api_id=api.id, subscription_id=5, **counts)
    return row


def report(subscription, ids: list[int]) -> None:
    """The gateway process's full list of open connections, as it reports it."""
    entries = [
        {
            "id": f"{n:032x}",
            "api_id": subscription.product.apis.get().pk,
            "api_name": "echo",
            "subscription_id": subscription.pk,
            "opened_at": timezone.now().isoformat(),
        }
        for n in ids
    ]
    live_services.record_live_report(
        gateway_name="managed",
        report={"node_id": "node-a", "worker": "1", "full": True, "opened": entries},
    )
