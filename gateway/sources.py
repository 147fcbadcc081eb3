"""Where a gateway process gets its catalog: the database (managed) or the control plane
(self-hosted, over HTTP, with the last good copy on disk). `SnapshotStore` swaps what they give.

A source has `load()` (the first catalog) and `next_change(revision)` (wait for a catalog newer
than `revision`; None when nothing changed within its wait). Both may raise: the store keeps
serving its last good snapshot and asks again.
"""

import asyncio
import logging
from pathlib import Path

from channels.db import database_sync_to_async

from apis import selectors
from gateway import savedconfig
from gateway.catalog.contract import GatewayCatalog
from gateway.catalog.wire import catalog_from_json
from gateway.controlplane import CONFIG_PATH, ControlPlane, ControlPlaneError

log = logging.getLogger("portico.gateway")


class DatabaseSource:
    """A managed gateway: one indexed single-row read of the revision per poll interval."""

    def __init__(self, gateway_name: str, poll_seconds: float) -> None:
        self.gateway_name = gateway_name
        self.poll_seconds = poll_seconds

    async def load(self) -> GatewayCatalog:
        return await database_sync_to_async(selectors.gateway_catalog)(self.gateway_name)

    async def next_change(self, revision: int) -> GatewayCatalog | None:
        await asyncio.sleep(self.poll_seconds)
        if await database_sync_to_async(selectors.catalog_revision)() == revision:
            return None
        return await self.load()

    async def close(self) -> None:
        pass


class ControlPlaneSource:
    """A self-hosted node: long-polls GET config with If-None-Match; saves every new answer.

    At start it asks the control plane once (a short timeout); when that fails it serves the
    saved file (fail static) and keeps asking in the background, with backoff, until it answers.
    """

    START_TIMEOUT = 5.0
    RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)  # then every 4 s: a returning control plane is seen soon

    def __init__(
        self, gateway_name: str, control: ControlPlane, saved_path: Path, *, wait: float = 25.0
    ) -> None:
        self.gateway_name = gateway_name
        self.control = control
        self.saved_path = saved_path
        self.wait = wait
        self.etag = ""
        self._failures = 0

    async def load(self) -> GatewayCatalog:
        try:
            catalog = await self._fetch(wait=0, timeout=self.START_TIMEOUT)
        except ControlPlaneError as error:
            saved = await asyncio.to_thread(savedconfig.load, self.saved_path)
            if saved is None:
                raise ControlPlaneError(
                    f"{error}; no saved configuration at {self.saved_path}"
                ) from None
            self.etag, data = saved
            catalog = catalog_from_json(data)
            log.warning(
                "%s; serving the saved configuration (revision %s) from %s",
                error,
                catalog.revision,
                self.saved_path,
            )
            return catalog
        assert catalog is not None  # wait=0 without an ETag always answers 200
        return catalog

    async def next_change(self, revision: int) -> GatewayCatalog | None:
        try:
            catalog = await self._fetch(wait=self.wait, timeout=self.wait + 10)
        except ControlPlaneError:
            delay = self.RETRY_SECONDS[min(self._failures, len(self.RETRY_SECONDS) - 1)]
            self._failures += 1
            await asyncio.sleep(delay)
            raise
        if self._failures:
            log.info("control plane reachable again at %s", self.control.base_url)
        self._failures = 0
        return catalog

    async def _fetch(self, *, wait: float, timeout: float) -> GatewayCatalog | None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        response = await self.control.request(
            "GET", CONFIG_PATH, params={"wait": wait}, headers=headers, timeout=timeout
        )
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise ControlPlaneError(f"control plane answered {response.status_code} for config")
        served = response.headers.get("X-Portico-Gateway", "")
        if served != self.gateway_name:
            raise ControlPlaneError(
                f"the node token belongs to gateway {served!r}, not {self.gateway_name!r}: "
                "check PORTICO_GATEWAY and PORTICO_GATEWAY_TOKEN"
            )
        data = response.json()
        catalog = catalog_from_json(data)  # refuse to save what cannot be served
        etag = response.headers.get("ETag", "")
        await asyncio.to_thread(savedconfig.save, self.saved_path, etag=etag, catalog=data)
        self.etag = etag
        return catalog

    async def close(self) -> None:
        await self.control.close()
