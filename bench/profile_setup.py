"""The set-up the profilers share (message_profile.py, handshake_profile.py, idle_profile.py): one
real gateway process (`run_gateway`, one worker, tunnel) on the benchmark's catalog and Node echo
backend, optionally started under a launcher script that profiles it; all stopped afterwards."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import run as harness  # bench/run.py (the script's folder is on sys.path)


@dataclass
class ProfiledGateway:
    tmp: Path  # the run's own folder: gateway.log, and whatever the launcher writes
    env: dict[str, str]
    info: dict  # prepare_catalog's answer (the subscription's primary_key, ...)
    port: int

    def start(
        self, launcher: list[str], *, prefix: list[str] | None = None, timeout: float = 120.0
    ) -> subprocess.Popen:
        """Start the gateway and wait for its port; `launcher` goes between python and manage.py
        (["-c", LAUNCHER, ...] runs it under a profiler; [] runs it plain), `prefix` before
        python (a tool that runs it, such as valgrind: give it a longer `timeout` to start)."""
        command = [*(prefix or []), harness.PYTHON, *launcher, "manage.py", "run_gateway"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with open(self.tmp / "gateway.log", "w") as log:
            gateway = harness.CHILDREN.start(
                "portico", command, cwd=harness.ROOT, env=self.env, stdout=log, stderr=log
            )
        harness.wait_for_port(self.port, gateway, "portico", timeout=timeout)
        return gateway


@contextlib.contextmanager
def profiled_gateway(
    prefix: str, *, fd_limit: int = 4096, env: dict[str, str] | None = None
) -> Iterator[ProfiledGateway]:
    """A temporary folder, the Node echo backend and the benchmark's catalog (`env`: extra
    settings for the gateway); the gateway starts with .start(). Every child is stopped after."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    harness.raise_fd_limit(fd_limit)
    harness.ensure_node_modules()
    backend_port = harness.free_port()
    backend = harness.start_node_backend(backend_port)
    try:
        gateway_env = {**harness.portico_env(tmp, 30.0), **(env or {})}
        info = harness.prepare_catalog(harness.ROOT, gateway_env, backend_port, bench_apis=True)
        yield ProfiledGateway(tmp=tmp, env=gateway_env, info=info, port=harness.free_port())
    finally:
        with contextlib.suppress(Exception):
            harness.CHILDREN.stop_all()
        backend.kill()
