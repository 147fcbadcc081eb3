"""Every gateway process reports itself every PORTICO_HEARTBEAT_SECONDS: which node and worker,
its host, version, the configuration revision it serves, its open connections and last error.

The report goes through the process's link (`gateway.controlplane`): a managed process writes it
to the database, a self-hosted node POSTs it to the control plane with its node token. A failed
report is logged and tried again at the next beat: it never affects serving.
"""

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime

log = logging.getLogger("portico.gateway")

VERSION = "portico-0.1.0"


def node_id(config) -> str:
    """PORTICO_NODE_ID, or host:port (what tells two nodes on one machine apart)."""
    if config.node_id:
        return config.node_id
    host = socket.gethostname()
    return f"{host}:{config.port}" if config.port else host


class Heartbeat:
    def __init__(self, store, live, *, send, interval: float, node: str, workers: int) -> None:
        self.store = store
        self.live = live  # gateway.node.revocation.LiveConnections: counted in each report
        self.send = send  # async send(report: dict): the link's send_heartbeat
        self.interval = interval
        self.node = node
        self.workers = workers
        self.started_at = datetime.now(UTC)
        self.error = ""  # the last report's own failure
        self._task: asyncio.Task | None = None

    def report(self) -> dict:
        snapshot = self.store.snapshot
        return {
            "node_id": self.node[:100],
            "worker": str(os.getpid()),
            "hostname": socket.gethostname()[:255],
            "version": VERSION,
            "revision": snapshot.revision if snapshot is not None else 0,
            "workers": self.workers,
            "open_connections": len(self.live),
            "last_error": (self.store.refresh_error or self.error)[:500],
            "started_at": self.started_at.isoformat(),
        }

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.send(self.report())
                self.error = ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reporting must never disturb serving
                self.error = f"heartbeat failed: {type(exc).__name__}: {exc}"[:500]
                log.warning("%s", self.error)
            await asyncio.sleep(self.interval)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
