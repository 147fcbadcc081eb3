"""What bench/hundred_k.py samples: processes' memory and descriptors, and each node worker's
own count of connections and asyncio tasks, read over one keep-alive HTTP connection so that
both answers come from the same worker (SO_REUSEPORT picks a worker per TCP connection)."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from pathlib import Path

TASKS_METRIC = "portico_gateway_tasks"


def rss_kib(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def open_files(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    return None


def process(pid: int) -> dict:
    return {"rss_kib": rss_kib(pid), "fds": open_files(pid)}


def _tasks(text: str) -> int | None:
    for line in text.splitlines():
        if line.startswith(TASKS_METRIC + "{") or line.startswith(TASKS_METRIC + " "):
            return int(float(line.rsplit(" ", 1)[1]))
    return None


def _one_worker(address: str, port: int) -> dict | None:
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.request("GET", "/_portico/status")
        status = json.loads(conn.getresponse().read())
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode()
        tasks = _tasks(text) if response.status == 200 else None
        return {
            "pid": status["pid"],
            "apis": status.get("apis"),
            "connections": status.get("connections"),
            "tasks": tasks,
        }
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def workers(address: str, port: int, count: int, bound: float = 20.0) -> dict[int, dict]:
    """{pid: {connections, tasks}} of as many of the node's `count` workers as answer in time."""
    seen: dict[int, dict] = {}
    deadline = time.monotonic() + bound
    for _ in range(30 * count):
        if len(seen) >= count or time.monotonic() > deadline:
            break
        found = _one_worker(address, port)
        if found is not None:
            seen.setdefault(found.pop("pid"), found)
    return seen
