"""The demo's banner on a second run and on other ports (issue 30, item 9).

A second run printed "(unchanged since the first run)" with no way back, and the AsyncAPI
walk-through hard-coded the echo backend's port and needed the Tokens page: the banner names the
command that sets a new password, the echo backend's URL and the two lines that set up `portico`.
"""

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.backend import free_port
from tests.support.client import run, ws_connect
from tests.support.demo import READY, demo_env, start_demo, stop, wait_for_line
from tests.support.servers import ROOT

PORTICO = Path(sys.executable).parent / "portico"
MARKET = "tests/apis/asyncapi_documents/market-data-3.0.yaml"


def shell(script: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-ec", script],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no terminal: the password prompt reads stdin
    )


def stop_demo(process: subprocess.Popen) -> None:
    """Ctrl-C first, so a failing test leaves no echo backend behind; a kill if that fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            stop(process)


def served_revision(port: int) -> int:
    url = f"http://127.0.0.1:{port}/_portico/gateway"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.load(response)["revision"]


def wait_for_revision_after(port: int, revision: int) -> None:
    deadline = time.monotonic() + 30
    while served_revision(port) <= revision:
        assert time.monotonic() < deadline, "the demo never served the imported API"
        time.sleep(0.1)


def test_a_second_run_names_changepassword_and_the_walk_through_runs_on_other_ports(tmp_path):
    port, echo_port = free_port(), free_port()
    args = ("--port", str(port), "--echo-port", str(echo_port))
    first, log = start_demo(tmp_path, *args)
    try:
        wait_for_line(first, log, READY)
        first.send_signal(signal.SIGINT)
        assert first.wait(30) == 0
    finally:
        stop_demo(first)

    second, log = start_demo(tmp_path, *args)
    try:
        output = wait_for_line(second, log, READY)
        env = demo_env(tmp_path)
        # The way back to a password printed once.
        reset = re.search(
            r"admin +login +admin / \(set on the first run; a new one: (.+)\)", output
        )
        assert reset, output
        assert reset.group(1).endswith("manage.py changepassword admin")
        new_password = "a-new-admin-passphrase-30"
        changed = shell(reset.group(1), env, stdin=f"{new_password}\n{new_password}\n")
        assert changed.returncode == 0, changed.stderr
        check = (
            "from django.contrib.auth.models import User; "
            f"print(User.objects.get(username='admin').check_password('{new_password}'))"
        )
        checked = shell(f'DEBUG=1 {sys.executable} manage.py shell -c "{check}"', env)
        assert checked.stdout.strip().splitlines()[-1] == "True", checked.stderr

        # The walk-through's first step, with what this banner printed instead of 9001 and 8000.
        echo_url = re.search(r"Echo backend +(ws://\S+)", output).group(1)
        assert echo_url == f"ws://127.0.0.1:{echo_port}/"
        exports = re.findall(r"^ +(export PORTICO_\w+=.+)$", output, re.M)
        assert [line.split("=")[0] for line in exports] == [
            "export PORTICO_URL",
            "export PORTICO_TOKEN",
        ]
        key = re.search(r"subscription-key=([^']+)'", output).group(1)
        before = served_revision(port)
        step = (
            f"{PORTICO} api import --asyncapi {MARKET} --suffix market "
            f"--backend {echo_url} --product starter"
        )
        imported = shell("\n".join([*exports, step]), env)
        assert imported.returncode == 0, imported.stderr
        wait_for_revision_after(port, before)

        async def through_the_gateway():
            async with ws_connect(f"ws://127.0.0.1:{port}/market?subscription-key={key}") as ws:
                await ws.send('{"type": "subscribe"}')
                return await ws.recv()

        assert run(through_the_gateway()) == '{"type": "subscribe"}'
        second.send_signal(signal.SIGINT)
        assert second.wait(30) == 0
    finally:
        stop_demo(second)
