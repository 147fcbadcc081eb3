"""Keeps each process's snapshot fresh: loads it at start-up, then polls the catalog revision.

The poll is one indexed single-row read per interval in a worker thread, never on a handshake,
so a save in admin, a page or the API is served by every gateway process within about a second.
A process that starts while the catalog cannot be read keeps retrying in the background and
answers 503 until the first snapshot is there. Every new snapshot goes through `_swap`, the one
place where listeners (revocation of open connections) hear about it, whatever its source.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from apis import selectors, services
from gateway.logredact import remember_secret_headers
from gateway.snapshot import Snapshot, build_snapshot

log = logging.getLogger("portico.gateway")

HEARTBEAT_SECONDS = 30.0
VERSION = "portico-0.1.0"
RETRY_FIRST_SECONDS = 0.25  # first load failed: retry soon, then back off
RETRY_MAX_SECONDS = 5.0
FIRST_LOAD_WAIT_SECONDS = 5.0  # how long a request waits for a load already under way


class CatalogUnavailable(Exception):
    """No snapshot yet: the catalog could not be read (the reason is safe to show)."""


class SnapshotStore:
    def __init__(self, gateway_name: str, poll_seconds: float, compile_pipeline=None) -> None:
        self.gateway_name = gateway_name
        self.poll_seconds = poll_seconds
        self.compile_pipeline = compile_pipeline
        self.snapshot: Snapshot | None = None
        self.last_error = ""
        self._listeners: list[Callable[[Snapshot | None, Snapshot], None]] = []
        self._task: asyncio.Task | None = None
        self._first_attempt: asyncio.Event | None = None
        self._last_heartbeat = 0.0

    def add_listener(self, listener: Callable[[Snapshot | None, Snapshot], None]) -> None:
        """Call `listener(old, new)` after every swap (synchronously, in the event loop)."""
        self._listeners.append(listener)

    def start(self) -> None:
        """Begin loading (and then polling) in the background; called at ASGI lifespan start."""
        if self._task is None or self._task.done():
            self._first_attempt = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def current(self) -> Snapshot:
        snapshot = self.snapshot
        if snapshot is not None:
            return snapshot
        self.start()  # servers without lifespan (Daphne) load on the first request
        try:
            await asyncio.wait_for(self._first_attempt.wait(), FIRST_LOAD_WAIT_SECONDS)
        except TimeoutError:
            pass
        if self.snapshot is None:
            raise CatalogUnavailable(self.last_error or "the catalog is still loading")
        return self.snapshot

    def _swap(self, new: Snapshot) -> None:
        """Serve `new` from now on and tell the listeners; the only place a snapshot changes."""
        old, self.snapshot = self.snapshot, new
        remember_secret_headers(route.api.key_header for route in new.routes.values())
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:  # a listener must never stop the catalog from refreshing
                log.exception("snapshot listener failed")

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

    async def _run(self) -> None:
        await self._load_first()
        await self._poll()

    async def _load_first(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while self.snapshot is None:
            try:
                self._swap(await self._load())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep retrying; handshakes answer 503
                self.last_error = "the gateway cannot read its catalog yet"
                log.warning(
                    "catalog load failed (%s: %s); retrying in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                )
            finally:
                self._first_attempt.set()
            if self.snapshot is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        self.last_error = ""

    async def _poll(self) -> None:
        revision_of = database_sync_to_async(selectors.catalog_revision)
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                if await revision_of() != self.snapshot.revision:
                    self._swap(await self._load())
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
        if self._task is not None:
            self._task.cancel()
            self._task = None


_store: SnapshotStore | None = None


def get_store() -> SnapshotStore:
    """The process-wide store (one gateway per process, named by PORTICO_GATEWAY)."""
    global _store
    if _store is None:
        from gateway.pipeline import compile_route_pipelines

        _store = SnapshotStore(
            settings.PORTICO_GATEWAY,
            settings.PORTICO_SNAPSHOT_POLL_SECONDS,
            compile_pipeline=compile_route_pipelines,
        )
    return _store
