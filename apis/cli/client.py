"""The CLI's door to the management API: settings from env or a file, and the SDK's client."""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico_client import PorticoClient, PorticoError
from portico_client.request import Request

DEFAULT_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    """A failure to report on one line; `exit_code` 1 for API errors, 3 for connection/config."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def from_sdk(cls, error: PorticoError) -> "CliError":
        """An API error answer exits 1; no answer at all (unreachable) exits 3."""
        return cls(str(error), 1 if error.status is not None else 3)


def config_path() -> Path:
    if os.environ.get("PORTICO_CONFIG"):
        return Path(os.environ["PORTICO_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "portico" / "config.toml"


def load_settings() -> tuple[str, str]:
    """(url, token): PORTICO_URL / PORTICO_TOKEN win over `url` / `token` in config.toml."""
    path = config_path()
    values: dict = {}
    if path.is_file():
        try:
            values = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CliError(f"cannot read {path}: {exc}", 3) from None
    url = os.environ.get("PORTICO_URL") or values.get("url") or DEFAULT_URL
    token = os.environ.get("PORTICO_TOKEN") or values.get("token") or ""
    if not token:
        raise CliError(f"no token: set PORTICO_TOKEN or `token` in {path}", 3)
    return url.rstrip("/"), token


@dataclass
class Response:
    data: Any
    etag: str | None


class Client(PorticoClient):
    """The SDK's client, plus `call()` by path for a command not yet written with the resources
    (the same transport: token, retries on 429/503, PorticoError for an error answer)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise CliError(f"PORTICO_URL must be an http(s):// URL, not {url!r}", 3)
        super().__init__(url, token, timeout=timeout)

    def call(self, method: str, path: str, body=None, *, params=None, if_match=None) -> Response:
        url = path if path.startswith("http") else f"/api/v1/{path.lstrip('/')}"
        query = {k: str(v) for k, v in (params or {}).items() if v not in (None, "")}
        headers = {"If-Match": if_match} if if_match else {}
        request = Request(method, url, query, body, headers) if body is not None else None
        request = request or Request(method, url, query, headers=headers)
        response = self._transport.send(request)
        if response.status_code >= 400:
            raise PorticoError.from_answer(response.status_code, response.content)
        return Response(response.json() if response.content else None, response.headers.get("ETag"))

    def get(self, path: str, **params) -> Any:
        return self.call("GET", path, params=params).data

    def list(self, path: str, **params) -> list:
        """Every page of a list, by path."""
        items: list = []
        page = self.call("GET", path, params={**params, "limit": 500}).data
        while True:
            items += page["results"]
            if not page.get("next"):
                return items
            page = self.call("GET", page["next"]).data
