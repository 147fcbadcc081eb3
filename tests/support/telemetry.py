"""Helpers for the telemetry tests: bounded waits for the recorder's flush, /metrics scrapes."""

import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


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
