"""What connect() shares between the sync and async clients: the URL and the socket options."""

import importlib.util
import urllib.parse
from typing import Any

INSTALL_HINT = "client.connect() needs websockets: pip install 'portico-client[connect]'"


def require_websockets() -> None:
    """Fail with the install line, not a bare ImportError, where the extra is missing."""
    if importlib.util.find_spec("websockets") is None:
        raise ModuleNotFoundError(INSTALL_HINT, name="websockets")


def gateway_ws_url(ticket_url: str, gateway_url: str | None) -> str:
    """The ticket's URL, moved to `gateway_url`'s scheme and host when one is given."""
    if not gateway_url:
        return ticket_url
    target = urllib.parse.urlsplit(gateway_url)
    if target.scheme not in ("ws", "wss"):
        raise ValueError(f"gateway_url must be a ws:// or wss:// URL, not {gateway_url!r}")
    ticket = urllib.parse.urlsplit(ticket_url)
    prefix = target.path.rstrip("/")
    return urllib.parse.urlunsplit(
        (target.scheme, target.netloc, prefix + ticket.path, ticket.query, "")
    )


def websocket_options(origin: str, options: dict[str, Any]) -> dict[str, Any]:
    """No proxy from the environment (it would see the ticket); the ticket's Origin if any."""
    chosen: dict[str, Any] = {"proxy": None, "open_timeout": 10}
    if origin:
        chosen["origin"] = origin
    return chosen | options
