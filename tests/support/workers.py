"""The worker processes of a `run_gateway --workers N` server: which there are, which are alive,
and a bounded wait until every one of them answers."""

import json
import time
from pathlib import Path

from tests.support.servers import ServerProcess


def workers_of(server: ServerProcess) -> set[int]:
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def answering_pids(server: ServerProcess, tries: int = 40) -> set[int]:
    """Workers that answered a status request (each request is a new connection)."""
    pids = set()
    for _ in range(tries):
        try:
            status, _, body = server.get("/_portico/status")
        except OSError:
            continue
        if status == 200:
            pids.add(json.loads(body)["pid"])
    return pids


def wait_for_every_worker(server: ServerProcess, count: int = 2) -> set[int]:
    """Block until `count` live workers all answer (they start slowly on a busy machine)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        workers = workers_of(server)
        if len(workers) == count and all(alive(p) for p in workers):
            if answering_pids(server, tries=10) == workers:
                return workers
        time.sleep(0.3)
    raise AssertionError(f"workers never all answered: {workers_of(server)}")
