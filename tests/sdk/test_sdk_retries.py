"""429 and 503 are retried as Retry-After says, within a bound of attempts and of total wait.

A tiny real HTTP server on a loopback port answers from a script: the SDK talks to it over
TCP, as to Portico; the figures checked are request counts, never durations.
"""

import json
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portico_client import AsyncPorticoClient, PorticoClient, PorticoError, RetryPolicy
from portico_client.retry import parse_retry_after
from tests.support.client import run

GATEWAY = {"id": 1, "name": "edge", "kind": "self_hosted", "apis": [], "status": "online"}


class ScriptedServer:
    """Answers each request with the next (status, headers) of `script`, then 200 + GATEWAY."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server.seen.append(self.headers.get("Authorization", ""))
                status, headers = server.script.pop(0) if server.script else (200, {})
                body = (
                    GATEWAY
                    if status == 200
                    else {
                        "status": status,
                        "errors": [{"field": None, "message": "Slow down.", "code": "throttled"}],
                    }
                )
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


FAST = RetryPolicy(max_attempts=4, max_total_wait=2.0, backoff=0.05)


def test_429_is_retried_after_the_seconds_retry_after_names():
    with ScriptedServer([(429, {"Retry-After": "0"}), (429, {"Retry-After": "1"})]) as server:
        with PorticoClient(server.url, "pat_x", retry=FAST) as client:
            gateway = client.gateways.get("edge")
    assert gateway.name == "edge"
    assert server.seen == ["Bearer pat_x"] * 3


def test_503_is_retried_and_gives_up_after_the_attempts_with_the_last_answer():
    with ScriptedServer([(503, {"Retry-After": "0"})] * 10) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert len(server.seen) == FAST.max_attempts
    assert e.value.status == 503 and e.value.errors[0]["message"] == "Slow down."


def test_a_retry_after_past_the_wait_budget_is_not_waited_for():
    """Retry-After: 120 with a 2 s budget: raised after the first answer, no sleep."""
    with ScriptedServer([(429, {"Retry-After": "120"}), (200, {})]) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert e.value.status == 429 and len(server.seen) == 1


def test_other_errors_are_not_retried():
    with ScriptedServer([(500, {}), (200, {})]) as server:
        with PorticoClient(server.url, "t", retry=FAST) as client, pytest.raises(PorticoError) as e:
            client.gateways.get("edge")
    assert e.value.status == 500 and e.value.problem is not None and len(server.seen) == 1


def test_the_async_client_retries_too():
    async def scenario():
        async with AsyncPorticoClient(server.url, "t", retry=FAST) as client:
            return await client.gateways.get("edge")

    with ScriptedServer([(429, {"Retry-After": "0"}), (503, {})]) as server:
        assert run(scenario()).name == "edge"
    assert len(server.seen) == 3


def test_retry_after_as_an_http_date():
    assert parse_retry_after(formatdate(1_000_030, usegmt=True), now=1_000_000) == 30
    assert parse_retry_after(formatdate(999_000, usegmt=True), now=1_000_000) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
