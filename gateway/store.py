"""Keeps each process's snapshot fresh: loads it once, then polls the catalog revision.

The poll is one indexed single-row read per interval in a worker thread, never on a handshake,
so a save in admin, a page or the API is served by every gateway process within about a second.
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from django.conf import settings

from apis import selectors, services
from gateway.snapshot import Snapshot, build_snapshot

log = logging.getLogger("portico.gateway")

HEARTBEAT_SECONDS = 30.0
VERSION = "portico-0.1.0"


class SnapshotStore:
    def __init__(self, gateway_name: str, poll_seconds: float, compile_pipeline=None) -> None:
        self.gateway_name = gateway_name
        self.poll_seconds = poll_seconds
        self.compile_pipeline = compile_pipeline
        self.snapshot: Snapshot | None = None
        self._loading: asyncio.Lock | None = None
        self._poller: asyncio.Task | None = None
        self._last_heartbeat = 0.0

    async def current(self) -> Snapshot:
        snapshot = self.snapshot
        if snapshot is not None:
            return snapshot
        if self._loading is None:
            self._loading = asyncio.Lock()
        async with self._loading:
            if self.snapshot is None:
                self.snapshot = await self._load()
                self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self.snapshot

    async def _load(self) -> Snapshot:
        catalog = await database_sync_to_async(selectors.gateway_catalog)(self.gateway_name)
        snapshot = build_snapshot(catalog, compile_pipeline=self.compile_pipeline)
        if not snapshot.gateway_found:
            log.warning(
                "gateway %r is not in the catalog: every path answers 404", self.gateway_name
            )
        log.info(
            "catalog revision %s loaded: %d API(s) on gateway %r",
            snapshot.revision,
            len(snapshot.routes),
            self.gateway_name,
        )
        return snapshot

    async def _poll(self) -> None:
        revision_of = database_sync_to_async(selectors.catalog_revision)
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                if await revision_of() != self.snapshot.revision:
                    self.snapshot = await self._load()
                await self._heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep serving the last good snapshot
                log.exception(
                    "catalog refresh failed; still serving revision %s", self.snapshot.revision
                )

    async def _heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = now
        await database_sync_to_async(services.record_gateway_heartbeat)(
            name=self.gateway_name, node_count=1, version=VERSION
        )

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None


_store: SnapshotStore | None = None


def get_store() -> SnapshotStore:
    """The process-wide store (one gateway per process, named by PORTICO_GATEWAY)."""
    global _store
    if _store is None:
        from gateway.pipeline import compile_route_pipeline

        _store = SnapshotStore(
            settings.PORTICO_GATEWAY,
            settings.PORTICO_SNAPSHOT_POLL_SECONDS,
            compile_pipeline=compile_route_pipeline,
        )
    return _store
