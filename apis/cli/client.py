"""A small JSON client of the management API (stdlib urllib), configured from env or a file."""

import json
import os
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    """A failure to report on one line; `exit_code` 1 for API errors, 3 for connection/config."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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


def describe(status: int, body: bytes) -> str:
    """`400 backend_url: Enter a ws:// URL.` from the API's error body."""
    try:
        errors = json.loads(body)["errors"]
        parts = [
            f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in errors
        ]
        return f"{status} " + "; ".join(parts)
    except (ValueError, KeyError, TypeError):
        return f"{status} {body[:200].decode(errors='replace').strip()}"


@dataclass
class Response:
    data: object
    etag: str | None


class Client:
    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise CliError(f"PORTICO_URL must be an http(s):// URL, not {url!r}", 3)
        self.url = url
        self.token = token
        self.timeout = timeout

    def call(self, method: str, path: str, body=None, *, params=None, if_match=None) -> Response:
        url = path if path.startswith("http") else f"{self.url}/api/v1/{path.lstrip('/')}"
        if params:
            query = {k: v for k, v in params.items() if v not in (None, "")}
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if if_match:
            headers["If-Match"] = if_match
        request = urllib.request.Request(url, data, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            raise CliError(describe(exc.code, exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"cannot reach {self.url}: {reason}", 3) from None
        return Response(json.loads(raw) if raw else None, etag)

    def get(self, path: str, **params) -> object:
        return self.call("GET", path, params=params).data

    def list(self, path: str, **params) -> list:
        """Every page of a list (bounded to 200 pages)."""
        items: list = []
        page = self.call("GET", path, params={**params, "limit": 500}).data
        for _ in range(200):
            items += page["results"]
            if not page.get("next"):
                return items
            page = self.call("GET", page["next"]).data
        raise CliError("too many pages")
