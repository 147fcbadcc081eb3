"""Several gateway worker processes on one port: start them, restart one that dies, drain all.

Each worker is `manage.py run_gateway --worker`: its own process and event loop, its own socket
bound with SO_REUSEPORT (the kernel balances new connections). The supervisor holds no socket
and relays no traffic; SIGTERM or SIGINT is passed to every worker once, and each drains its
connections as a single process does. Workers die with the supervisor (PR_SET_PDEATHSIG).
"""

import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("portico.gateway")

POLL_SECONDS = 0.2
RESTART_BACKOFF_MAX = 5.0
QUICK_DEATH_SECONDS = 2.0  # a worker that dies sooner than this is restarted with backoff
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def port_is_free(host: str, port: int) -> bool:
    """True when nothing else listens there (checked once, before the workers share the port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class Worker:
    def __init__(self, index: int, command: list[str], cwd: Path) -> None:
        self.index = index
        self.command = command
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.backoff = 0.0
        self.not_before = 0.0

    def start(self) -> None:
        # Its own process group: a Ctrl-C in the terminal reaches the supervisor only, which
        # passes one SIGTERM on (two signals would make uvicorn skip the graceful drain).
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, preexec_fn=_die_with_parent, process_group=0
        )
        self.started = time.monotonic()
        log.info("gateway worker %d started (pid %d)", self.index, self.process.pid)


class Supervisor:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        workers: int,
        manage_py: Path,
        drain_seconds: float,
        tls_options: list[str] = (),
    ) -> None:
        self.host, self.port = host, port
        self.drain_seconds = drain_seconds  # the workers' own grace plus their telemetry flush
        command = [sys.executable, str(manage_py), "run_gateway", "--worker"]
        command += ["--host", host, "--port", str(port), "--workers", str(workers)]
        command += list(tls_options)
        self.workers = [Worker(i, command, manage_py.parent) for i in range(1, workers + 1)]
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for worker in self.workers:
            worker.start()
        while not self.stopping:
            self._watch()
            time.sleep(POLL_SECONDS)
        return self._drain()

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _watch(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.process is None:
                if now >= worker.not_before:
                    worker.start()
                continue
            code = worker.process.poll()
            if code is None:
                continue
            lived = now - worker.started
            worker.backoff = (
                min(max(worker.backoff * 2, 0.5), RESTART_BACKOFF_MAX)
                if lived < QUICK_DEATH_SECONDS
                else 0.0
            )
            log.error(
                "gateway worker %d (pid %d) exited with %s after %.1fs; restarting in %.1fs",
                worker.index,
                worker.process.pid,
                code,
                lived,
                worker.backoff,
            )
            worker.process = None
            worker.not_before = now + worker.backoff

    def _drain(self) -> int:
        running = [w.process for w in self.workers if w.process and w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)  # once: a second signal would force an exit
        deadline = time.monotonic() + self.drain_seconds
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.info("gateway workers stopped")
        return 0
