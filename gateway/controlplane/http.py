"""A self-hosted node's link to the control plane: its HTTP node endpoints (bearer node token).

One `httpx.AsyncClient` per process, created on the event loop that uses it. Nothing here runs
per handshake or per message: the config long-poll (the last good answer saved on disk, served
when the control plane is away), heartbeats, telemetry batches and live connection reports.
"""

import asyncio
import json
import logging
from pathlib import Path

import httpx

from gateway.catalog.contract import GatewayCatalog
from gateway.catalog.wire import catalog_from_json, encode_batch
from gateway.controlplane import ControlPlaneError, savedconfig
from gateway.telemetry.spool import DiskSpool

log = logging.getLogger("portico.gateway")

CONFIG_PATH = "/_portico/gateways/v1/config"
HEARTBEAT_PATH = "/_portico/gateways/v1/heartbeat"
TELEMETRY_PATH = "/_portico/gateways/v1/telemetry"
LIVE_PATH = "/_portico/gateways/v1/connections"


class ControlPlane:
    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {self._token}", "User-Agent": "portico-node"},
                timeout=self.timeout,
                follow_redirects=False,
            )
        return self._client

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The response for any status below 500 except 401/403; ControlPlaneError otherwise."""
        try:
            response = await self.client().request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ControlPlaneError(
                f"control plane unreachable ({type(error).__name__}: {error})"
            ) from None
        if response.status_code in (401, 403):
            raise ControlPlaneError(
                f"control plane refused the node token ({response.status_code}): "
                "check PORTICO_GATEWAY_TOKEN (was it regenerated?)"
            )
        if response.status_code >= 500:
            raise ControlPlaneError(f"control plane answered {response.status_code}")
        return response

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class HttpLink:
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

    async def load_catalog(self) -> GatewayCatalog:
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

    async def next_catalog(self, revision: int) -> GatewayCatalog | None:
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

    async def send_heartbeat(self, report: dict) -> None:
        response = await self.control.request("POST", HEARTBEAT_PATH, json=report)
        if response.status_code >= 300:
            raise ControlPlaneError(f"control plane answered {response.status_code}")

    async def send_live_report(self, report: dict) -> dict:
        # A full list of 10,000 connections is ~3 MB of JSON: encoded off the event loop.
        body = await asyncio.to_thread(json.dumps, report, separators=(",", ":"))
        response = await self.control.request(
            "POST", LIVE_PATH, content=body, headers={"Content-Type": "application/json"}
        )
        if response.status_code >= 300:
            raise ControlPlaneError(f"control plane answered {response.status_code}")
        answer = response.json()
        return {"disconnect": answer.get("disconnect", []), "messages": answer.get("messages", [])}

    async def write_telemetry(self, **batch) -> None:
        """Raises ControlPlaneError when the batch was not stored, so it stays in the spool."""
        response = await self.control.request("POST", TELEMETRY_PATH, json=encode_batch(batch))
        if response.status_code != 200:
            raise ControlPlaneError(f"control plane answered {response.status_code} to telemetry")

    def telemetry_spool(self, config) -> DiskSpool:
        directory = config.var_dir / f"telemetry-spool-{config.gateway}"
        return DiskSpool(directory, config.telemetry_spool_records, encode=encode_batch)

    async def close(self) -> None:
        await self.control.close()
