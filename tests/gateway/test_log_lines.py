"""Server output is one line per event (issue 30, item 7), read from the real processes' output.

Each `django.request` warning was printed twice (Django's own console handler plus root), a
developer refused a page printed a PermissionDenied traceback, a self-hosted node printed every
heartbeat, config poll and telemetry post at INFO (httpx), and the echo backend logged ERROR with
a traceback when a client dropped without a close frame.
"""

import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apis import selectors
from apis.models import GatewayNode
from apis.telemetry.models import ConnectionLog
from tests.support.backend import free_port
from tests.support.client import run, ws_connect
from tests.support.nodes import start_control_plane
from tests.support.raw_client import RawClient
from tests.support.servers import ROOT, server_env
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(url: str, **headers: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10):  # noqa: S310
            return 200
    except urllib.error.HTTPError as error:
        return error.code


def test_a_refused_page_or_api_call_prints_one_line_and_no_traceback(server_logs):
    developer = User.objects.create_user("dev", "dev@example.com", "pw-dev-12345")
    session = Client()
    session.force_login(developer)
    control = start_control_plane(server_logs)  # DEBUG on, as a developer runs it
    try:
        cookie = f"sessionid={session.cookies['sessionid'].value}"
        assert status_of(f"{control.http_url}/publisher/", Cookie=cookie) == 403
        assert status_of(f"{control.http_url}/api/v1/gateways/", Cookie=cookie) == 403
    finally:
        control.stop()
    lines = control.output().splitlines()
    page = [line for line in lines if "Forbidden (Permission denied): /publisher/" in line]
    api = [line for line in lines if "Forbidden: /api/v1/gateways/" in line]
    assert len(page) == 1 and len(api) == 1, lines
    assert "Traceback" not in control.output() and "PermissionDenied" not in control.output()


def test_a_node_keeps_routine_control_plane_traffic_out_of_its_info_log(
    edge, start_edge_node, server_logs
):
    control = start_control_plane(server_logs)
    node = None
    try:
        node = start_edge_node(
            control, PORTICO_HEARTBEAT_SECONDS="0.2", PORTICO_TELEMETRY_FLUSH_MS="100"
        )
        node.wait_for_revision(selectors.catalog_revision())
        first_seen = wait_for(lambda: GatewayNode.objects.filter(gateway__name="edge").first())
        assert first_seen is not None

        async def relay_one():
            async with ws_connect(f"{node.ws_url}/echo?subscription-key={edge.key}") as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"

        run(relay_one())
        # Routine traffic happened: later heartbeats and a telemetry post reached the portal.
        assert wait_for(
            lambda: GatewayNode.objects.filter(
                pk=first_seen.pk, last_seen_at__gt=first_seen.last_seen_at
            ).exists(),
            timeout=30,
        )
        assert wait_for(lambda: ConnectionLog.objects.exists(), timeout=30)
        node.stop()
    finally:
        if node is not None:
            node.stop()
        control.stop()
    output = node.output()
    assert "loaded: 1 API(s) on gateway 'edge'" in output  # events still say what happened
    routine = [line for line in output.splitlines() if "HTTP Request" in line or "httpx" in line]
    assert routine == [], output


def test_the_echo_backend_takes_a_dropped_client_quietly(tmp_path):
    port = free_port()
    log_path = tmp_path / "echo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "echo_backend", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            cwd=ROOT,
            env=server_env(LOG_LEVEL="INFO"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            assert wait_for(lambda: "listening" in log_path.read_text(), timeout=60)
            client = RawClient(f"ws://127.0.0.1:{port}/")
            client.send_text("hi")
            assert [frame.data for frame in client.read_frames()] == [b"hi"]
            client.close()  # gone without a close frame, as a killed client goes
            assert run(echo_once(port)) == "still here"
        finally:
            process.send_signal(signal.SIGTERM)  # it waits for its handlers before it exits
            code = process.wait(30)
    output = log_path.read_text()
    assert code == 0, output
    assert "ERROR" not in output and "Traceback" not in output, output


async def echo_once(port: int) -> str:
    async with ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("still here")
        return await ws.recv()


def test_routine_traffic_shows_at_debug_and_an_outage_warns_once(
    edge, start_edge_node, server_logs
):
    """LOG_LEVEL=DEBUG brings the node's per-request lines back, marked DEBUG. While the control
    plane is away the node retries every few seconds: one WARNING per distinct failure, the
    retries at DEBUG (they printed a WARNING each)."""
    control = start_control_plane(server_logs)
    node = None
    try:
        node = start_edge_node(control, LOG_LEVEL="DEBUG")
        node.wait_for_revision(selectors.catalog_revision())
        control.stop()
        retried = wait_for(
            lambda: node.output().count("DEBUG portico.gateway catalog refresh failed") >= 2,
            timeout=60,
        )
        node.stop()
    finally:
        if node is not None:
            node.stop()
        control.stop()
    output = node.output()
    requests = [line for line in output.splitlines() if "HTTP Request" in line]
    assert requests and all(" DEBUG httpx " in line for line in requests), output
    assert retried, output
    warnings = [
        line.split(" WARNING ", 1)[1]
        for line in output.splitlines()
        if " WARNING portico.gateway catalog refresh failed" in line
    ]
    assert warnings and len(warnings) == len(set(warnings)), output
