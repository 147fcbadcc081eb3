"""Keeps each process's snapshot fresh: loads it at start-up, then follows the control plane.

The link (`gateway.controlplane`) is the database for a managed gateway (one indexed single-row
revision read per interval in a worker thread, never on a handshake) and the control plane for a
self-hosted node (an HTTP long-poll, with the last good answer on disk); either way a change is
served by every gateway process within about a second. A process that starts while no catalog
can be had keeps retrying in the background and answers 503 until the first snapshot is there.
Every new snapshot goes through `_swap`, the one place where listeners (revocation of open
connections) hear about it, whatever its link.
"""

import asyncio
import logging
from collections.abc import Callable

from gateway.catalog.snapshot import Snapshot, build_snapshot
from gateway.logredact import remember_secret_headers, remember_secret_values

log = logging.getLogger("portico.gateway")

RETRY_FIRST_SECONDS = 0.25  # first load failed: retry soon, then back off
RETRY_MAX_SECONDS = 5.0
FIRST_LOAD_WAIT_SECONDS = 5.0  # how long a request waits for a load already under way


class CatalogUnavailable(Exception):
    """No snapshot yet: the catalog could not be read (the reason is safe to show)."""


class SnapshotStore:
    def __init__(self, gateway_name: str, link, compile_pipeline=None) -> None:
        self.gateway_name = gateway_name
        self.link = link  # gateway.controlplane: the database or the control plane over HTTP
        self.compile_pipeline = compile_pipeline
        self.snapshot: Snapshot | None = None
        self.last_error = ""  # shown to clients (503) while there is no snapshot
        self.refresh_error = ""  # the latest load/refresh failure, for heartbeats and logs
        self._listeners: list[Callable[[Snapshot | None, Snapshot], None]] = []
        self._task: asyncio.Task | None = None
        self._first_attempt: asyncio.Event | None = None

    def add_listener(self, listener: Callable[[Snapshot | None, Snapshot], None]) -> None:
        """Call `listener(old, new)` after every swap (synchronously, in the event loop)."""
        self._listeners.append(listener)

    def start(self) -> None:
        """Begin loading (and then following) in the background; called at ASGI lifespan start."""
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
        keys = [route.api.key_header for route in new.routes.values()]
        remember_secret_headers([*keys, *new.secret_headers])
        remember_secret_values(new.secret_values)
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:  # a listener must never stop the catalog from refreshing
                log.exception("snapshot listener failed")

    def _build(self, catalog) -> Snapshot:
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
        await self._follow()

    async def _load_first(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while self.snapshot is None:
            try:
                self._swap(self._build(await self.link.load_catalog()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep retrying; handshakes answer 503
                self.last_error = "the gateway cannot read its catalog yet"
                self.refresh_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning(
                    "catalog load failed (%s); retrying in %.1fs", self.refresh_error, delay
                )
            finally:
                self._first_attempt.set()
            if self.snapshot is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        self.last_error = ""

    async def _follow(self) -> None:
        while True:
            try:
                catalog = await self.link.next_catalog(self.snapshot.revision)
                self.refresh_error = ""
                if catalog is not None and catalog.revision != self.snapshot.revision:
                    self._swap(self._build(catalog))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep serving the last good snapshot
                error = f"{type(exc).__name__}: {exc}"[:500]
                # One WARNING when refreshing starts failing (or fails differently); the retries
                # of one outage (every few seconds while the control plane is away) are DEBUG.
                level = logging.DEBUG if error == self.refresh_error else logging.WARNING
                self.refresh_error = error
                log.log(
                    level,
                    "catalog refresh failed; still serving revision %s: %s",
                    self.snapshot.revision,
                    error,
                )

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
