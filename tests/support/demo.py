"""The demo (`manage.py demo`) run for real in a subprocess with its own environment and log,
and a bounded wait for a line of its output."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.servers import ROOT

READY = "Ready: Portico and the echo backend are listening"


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "PORTICO_LIMITS_STORAGE"):
        env.pop(name, None)  # the demo's own SQLite file and in-memory counters
    env.update(DEBUG="1", PORTICO_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    return env


def start_demo(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"demo-{time.monotonic_ns()}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo", *args],
            cwd=ROOT,
            env=demo_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def wait_for_line(process: subprocess.Popen, log: Path, text: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if text in output:
            return output
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in the demo's output:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)
