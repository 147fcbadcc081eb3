"""Every gateway process reports itself every PORTICO_HEARTBEAT_SECONDS: which node and worker,
its host, version, the configuration revision it serves, its open connections and last error.

A managed process writes the report to the database; a self-hosted node POSTs it to the control
plane with its node token. A failed report is logged and tried again at the next beat: it never
affects serving.
"""

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from django.conf import settings

log = logging.getLogger("portico.gateway")

VERSION = "portico-0.1.0"

# Set by `run_gateway` before serving: the port and the node's worker count.
_node = {"port": None, "workers": 1}


def configure(*, port: int, workers: int) -> None:
    _node["port"], _node["workers"] = port, workers


def node_id() -> str:
    """PORTICO_NODE_ID, or host:port (what tells two nodes on one machine apart)."""
    if settings.PORTICO_NODE_ID:
        return settings.PORTICO_NODE_ID
    host = socket.gethostname()
    return f"{host}:{_node['port']}" if _node["port"] else host


class Heartbeat:
    def __init__(self, store, *, send, interval: float) -> None:
        self.store = store
        self.send = send  # async send(report: dict)
        self.interval = interval
        self.started_at = datetime.now(UTC)
        self.error = ""  # the last report's own failure
        self._task: asyncio.Task | None = None

    def report(self) -> dict:
        from gateway.revocation import live_connections

        snapshot = self.store.snapshot
        return {
            "node_id": node_id()[:100],
            "worker": str(os.getpid()),
            "hostname": socket.gethostname()[:255],
            "version": VERSION,
            "revision": snapshot.revision if snapshot is not None else 0,
            "workers": _node["workers"],
            "open_connections": len(live_connections()),
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


def _database_sender(gateway: str):
    from apis import services

    record = database_sync_to_async(services.record_node_heartbeat)

    async def send(report: dict) -> None:
        await record(gateway_name=gateway, report=report)

    return send


def _control_plane_sender(control):
    from gateway.controlplane import HEARTBEAT_PATH, ControlPlaneError

    async def send(report: dict) -> None:
        response = await control.request("POST", HEARTBEAT_PATH, json=report)
        if response.status_code >= 300:
            raise ControlPlaneError(f"control plane answered {response.status_code}")

    return send


_heartbeat: Heartbeat | None = None


def get_heartbeat() -> Heartbeat:
    """The process-wide heartbeat, reporting through the same path as its catalog source."""
    global _heartbeat
    if _heartbeat is None:
        from gateway.store import get_store

        store = get_store()
        control = getattr(store.source, "control", None)
        send = (
            _control_plane_sender(control)
            if control is not None
            else _database_sender(settings.PORTICO_GATEWAY)
        )
        _heartbeat = Heartbeat(store, send=send, interval=settings.PORTICO_HEARTBEAT_SECONDS)
    return _heartbeat
