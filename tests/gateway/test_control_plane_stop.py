"""Stopping the control plane while self-hosted nodes hold config long-polls (issue 30, item 6).

uvicorn waits for in-flight requests at shutdown and a long-poll is held up to 60 s, so
`run_portal` took 11-21 s to stop with a node attached, and died by its own re-raised SIGTERM
before printing that it stopped. Held polls now end at once with 503 (the node retries).
"""

import signal
import subprocess
import threading

import pytest

from apis import selectors
from tests.support.nodes import http, start_control_plane

pytestmark = pytest.mark.django_db(transaction=True)

STOP_BOUND_SECONDS = 10  # far below the held poll's 60 s: only a released poll gets under it


def test_sigterm_ends_held_long_polls_and_the_portal_says_it_stopped(
    edge, start_edge_node, server_logs
):
    control = start_control_plane(server_logs)
    node = None
    try:
        node = start_edge_node(control)
        node.wait_for_revision(selectors.catalog_revision())
        # One more held poll that this test can read the answer of, as a node sends it.
        answers = []
        held = threading.Thread(
            target=lambda: answers.append(
                http(
                    f"{control.http_url}/_portico/gateways/v1/config?wait=60",
                    headers={
                        "Authorization": f"Bearer {edge.token}",
                        "If-None-Match": f'"{selectors.catalog_revision()}"',
                    },
                    timeout=90,
                )
            )
        )
        held.start()
        assert control.get("/healthz")[0] == 200  # served after the held request was read

        control.process.send_signal(signal.SIGTERM)
        try:
            code = control.process.wait(STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        held.join(90)
        output = control.output()
        assert code == 0, output
        assert "Portico portal stopped." in output and "Traceback" not in output, output
        status, headers, body = answers[0]
        assert status == 503 and headers["retry-after"] == "1", (status, body)
        assert b"stopping" in body
        # The node keeps serving from its snapshot while the control plane is away.
        assert node.process.poll() is None
        assert node.status()["revision"] == selectors.catalog_revision()
    finally:
        if node is not None:
            node.stop()
        control.stop()
