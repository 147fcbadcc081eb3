"""A real client connection held open on its own thread while a browser test looks at pages.

Playwright's sync API keeps an event loop in the test's thread, so the connection gets a thread
and loop of its own; the test closes it, reads how the server closed it, or waits for the
messages it received (`wait_received`).
"""

import asyncio
import threading

from websockets.exceptions import ConnectionClosed

from tests.support.client import ws_connect

BOUND = 15.0  # seconds: opening, and a close we wait for, happen well within this


class HeldConnection:
    def __init__(self, url: str) -> None:
        self.url = url
        self.close_code: int | None = None
        self.close_reason = ""
        self.received: list = []  # messages from the server, in order
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    def open(self) -> "HeldConnection":
        self._thread.start()
        assert self._opened.wait(BOUND), f"{self.url} did not open within {BOUND} s"
        if self._error is not None:
            raise self._error
        return self

    def close(self) -> None:
        """Close from the client side and wait until the thread is done."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.wait_closed()

    def wait_closed(self) -> tuple[int | None, str]:
        """Wait (bounded) until the connection is closed; (code, reason) the client saw."""
        self._thread.join(BOUND)
        assert not self._thread.is_alive(), f"{self.url} still open after {BOUND} s"
        return self.close_code, self.close_reason

    def wait_received(self, count: int) -> list:
        """Wait (bounded) until `count` messages arrived; all received so far."""
        import time

        deadline = time.monotonic() + BOUND
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{self.received} after {BOUND} s"
            time.sleep(0.05)
        return list(self.received)

    async def _read(self, ws) -> None:
        """Until the connection closes: keep what the server sends."""
        try:
            async for message in ws:
                self.received.append(message)
        except ConnectionClosed:
            pass  # closed with an error code: read from ws.close_code like any close
        await ws.wait_closed()

    async def _hold(self) -> None:
        try:
            async with ws_connect(self.url) as ws:
                self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
                self._opened.set()
                closed = asyncio.ensure_future(self._read(ws))
                stopping = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
            await closed
            self.close_code, self.close_reason = ws.close_code, ws.close_reason or ""
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread in open()
            self._error = error
            self._opened.set()


def wait_listed(user, subscription_id: int, count: int) -> None:
    """Wait (bounded) until the control plane lists `count` open connections of the subscription."""
    import time

    from apis.telemetry.live_selectors import live_connections

    deadline = time.monotonic() + BOUND
    while live_connections(user, subscription=subscription_id).count() != count:
        assert time.monotonic() < deadline, f"not {count} listed within {BOUND} s"
        time.sleep(0.1)
