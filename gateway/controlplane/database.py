"""A managed gateway's link to the control plane: the database, through `apis` (in a thread).

The catalog is one indexed single-row read of the revision per poll interval, never a read per
handshake; heartbeats, live reports and telemetry batches are written by the control plane's own
services, so both planes store them the same way.
"""

import asyncio

from channels.db import database_sync_to_async

from apis import selectors, services
from apis.telemetry import live_services
from apis.telemetry import services as telemetry_services
from gateway.catalog.contract import GatewayCatalog
from gateway.telemetry.spool import MemorySpool


class DatabaseLink:
    def __init__(self, gateway_name: str, poll_seconds: float) -> None:
        self.gateway_name = gateway_name
        self.poll_seconds = poll_seconds
        self._catalog = database_sync_to_async(selectors.gateway_catalog)
        self._revision = database_sync_to_async(selectors.catalog_revision)
        self._heartbeat = database_sync_to_async(services.record_node_heartbeat)
        self._live = database_sync_to_async(live_services.answer_live_report)
        self.write_telemetry = database_sync_to_async(telemetry_services.write_batch)

    async def load_catalog(self) -> GatewayCatalog:
        return await self._catalog(self.gateway_name)

    async def next_catalog(self, revision: int) -> GatewayCatalog | None:
        await asyncio.sleep(self.poll_seconds)
        if await self._revision() == revision:
            return None
        return await self.load_catalog()

    async def send_heartbeat(self, report: dict) -> None:
        await self._heartbeat(gateway_name=self.gateway_name, report=report)

    async def send_live_report(self, report: dict) -> dict:
        return await self._live(gateway_name=self.gateway_name, report=report)

    def telemetry_spool(self, config) -> MemorySpool:
        return MemorySpool(config.telemetry_spool_records)

    async def close(self) -> None:
        pass
