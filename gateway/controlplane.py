"""HTTP client of a self-hosted node for the control plane's node endpoints (bearer node token).

One `httpx.AsyncClient` per process, created on the event loop that uses it. Nothing here runs
per handshake or per message: the config long-poll, heartbeats, telemetry batches and live
connection reports only.
"""

import httpx

CONFIG_PATH = "/_portico/gateways/v1/config"
HEARTBEAT_PATH = "/_portico/gateways/v1/heartbeat"
TELEMETRY_PATH = "/_portico/gateways/v1/telemetry"
LIVE_PATH = "/_portico/gateways/v1/connections"


class ControlPlaneError(Exception):
    """The control plane could not be reached or refused the request (message says which)."""


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
