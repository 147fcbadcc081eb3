"""The demo's first minutes, run for real in a subprocess (issue 12, item 20).

Ready means ready (the first client gets an echo, not a 502), Ctrl-C and SIGTERM exit quietly
and stop the echo backend, and a port already taken fails at once with the option to change it,
leaving nothing behind.
"""

import re
import signal
import socket
from pathlib import Path

import pytest

from tests.support.backend import free_port
from tests.support.client import run, ws_connect
from tests.support.demo import READY, start_demo, stop, wait_for_line


def echo_processes(port: int) -> list[int]:
    """Echo backends started for this port that still run (or linger as zombies)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"echo_backend" in argv and str(port).encode() in argv:
            found.append(int(entry.name))
    return found


@pytest.fixture
def ports():
    return free_port(), free_port()


def test_ready_means_the_first_client_gets_an_echo_and_ctrl_c_is_quiet(tmp_path, ports):
    port, echo_port = ports
    process, log = start_demo(tmp_path, "--port", str(port), "--echo-port", str(echo_port))
    try:
        output = wait_for_line(process, log, READY)
        url = re.search(r"'(ws://\S+\?subscription-key=\S+)'", output).group(1)

        async def first_client():
            async with ws_connect(url) as ws:  # at once: no retry, no wait
                await ws.send("first")
                return await ws.recv()

        assert run(first_client()) == "first"
        assert output.index("Developer portal") < output.index(READY)

        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    finally:
        stop(process)
    output = log.read_text(errors="replace")
    assert code == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "Portico demo stopped." in output
    assert echo_processes(echo_port) == []


def test_sigterm_stops_the_demo_and_its_echo_backend_like_ctrl_c(tmp_path, ports):
    """`docker stop`, systemd and `timeout` send SIGTERM: nothing may outlive the demo."""
    port, echo_port = ports
    process, log = start_demo(tmp_path, "--port", str(port), "--echo-port", str(echo_port))
    try:
        wait_for_line(process, log, READY)
        assert echo_processes(echo_port)
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    finally:
        stop(process)
    output = log.read_text(errors="replace")
    assert code == 0, output
    assert "Traceback" not in output, output
    assert "Portico demo stopped." in output
    assert echo_processes(echo_port) == []


def test_a_taken_port_fails_at_once_with_the_option_to_change_it(tmp_path, ports):
    port, echo_port = ports
    with socket.create_server(("127.0.0.1", port)):
        process, log = start_demo(tmp_path, "--port", str(port), "--echo-port", str(echo_port))
        try:
            code = process.wait(60)
        finally:
            stop(process)
    output = log.read_text(errors="replace")
    assert code != 0
    assert f"--port {port + 1}" in output, output
    assert "Developer portal" not in output and "Traceback" not in output, output
    assert echo_processes(echo_port) == []


def test_a_taken_echo_port_fails_at_once_and_leaves_nothing_behind(tmp_path, ports):
    port, echo_port = ports
    with socket.create_server(("127.0.0.1", echo_port)):
        process, log = start_demo(tmp_path, "--port", str(port), "--echo-port", str(echo_port))
        try:
            code = process.wait(60)
        finally:
            stop(process)
        output = log.read_text(errors="replace")
        assert code != 0
        assert f"--echo-port {echo_port + 1}" in output, output
        assert "Developer portal" not in output and "Traceback" not in output, output
        assert echo_processes(echo_port) == []
    with socket.create_server(("127.0.0.1", port)):
        pass  # the demo's own port was released
