"""Client helpers: connect through the gateway, or read the HTTP refusal it answered."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


@dataclass
class RefusedHandshake:
    status: int
    body: dict
    headers: dict


async def refused(url: str, **kwargs) -> RefusedHandshake:
    """Connect expecting an HTTP refusal; fail if the handshake succeeds."""
    try:
        async with connect(url, open_timeout=10, proxy=None, **kwargs):
            pass
    except InvalidStatus as exc:
        response = exc.response
        body = bytes(response.body or b"")
        return RefusedHandshake(
            status=response.status_code,
            body=json.loads(body) if body.startswith(b"{") else {"raw": body.decode()},
            headers={k.lower(): v for k, v in response.headers.raw_items()},
        )
    raise AssertionError(f"handshake to {url} was accepted, expected a refusal")


def run(coro):
    """Run a client scenario to completion in its own thread and event loop (bounded to 60 s),
    so it works even while Playwright holds an event loop in the test's thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout=60)).result()


def ws_connect(url: str, **kwargs):
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("max_size", 4 * 1024 * 1024)
    kwargs.setdefault("compression", None)
    return connect(url, proxy=None, **kwargs)
