"""Relays messages between an accepted client and its backend until either side closes.

The client leg is the ASGI receive/send pair; the backend leg is a `websockets` connection.
Per message there is no database work, no thread hop and no log line: one await to read, one to
write, two integer updates. Both legs are bounded (the server pauses reading while a message
waits; the backend leg keeps a bounded queue), so a slow reader applies backpressure. Closing
never waits on a peer without a bound: a client that does not take its close frame within the
close grace is dropped (aborted where the server offers `portico.abort`), so the idle timeout and
maximum duration hold whatever the client does.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed

from gateway.backend.leg import BackendLeg
from gateway.catalog.delivery import DELIVERED, FULL, GONE, TOO_BIG
from gateway.policies.messages import Verdict
from gateway.relay import closecodes

log = logging.getLogger("portico.gateway")

ABORT_EXTENSION = "portico.abort"  # offered by gateway.server.protocols
TUNNEL_EXTENSION = "portico.tunnel"  # likewise: the raw transport after websocket.accept
# A message from the control plane that the client's transport did not take within this is
# answered "full" (the server's send waits while the client does not read).
DELIVER_SECONDS = 1.0
# An onMessage policy that raised: fail closed (1011 to the sender, 1001 to the other side).
POLICY_FAILED = Verdict("close", "message policy failed", 1011, closecodes.GOING_AWAY)


@dataclass(slots=True)
class RelayStats:
    messages_up: int = 0  # client -> backend
    bytes_up: int = 0
    messages_down: int = 0  # backend -> client
    bytes_down: int = 0
    messages_dropped: int = 0  # stopped by an onMessage policy's drop action (either way)
    by_policy: bool = False  # an onMessage policy closed the connection (not a peer's frame)
    # log-messages' samples (the connection's own bounded list, read when the connection ends)
    message_samples: list = field(default_factory=list)
    closed_by: str = ""  # "client", "backend" or "gateway"
    close_code: int | None = None
    close_reason: str = ""

    @property
    def moved(self) -> int:
        """The four traffic counts' sum: they only grow, so an unchanged sum means unchanged
        counts (gateway.telemetry.activity reads it once a second per open connection)."""
        return self.messages_up + self.bytes_up + self.messages_down + self.bytes_down


class Relay:
    def __init__(
        self,
        *,
        receive,
        send,
        backend: BackendLeg,
        max_message_bytes: int,
        idle_timeout: float,
        max_duration: float,
        full_close_range: bool,
        close_grace: float = 2.0,
        can_abort: bool = False,
        messages=None,
    ) -> None:
        self.receive = receive
        self.send = send
        self.backend = backend
        self.max_message_bytes = max_message_bytes
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.full_close_range = full_close_range
        self.close_grace = close_grace  # how long a client gets to take (and answer) our close
        self.can_abort = can_abort  # the server drops a client on {"type": "portico.abort"}
        # onMessage policies (gateway.policies.ConnectionMessages) or None; read once, in run().
        self.messages = messages
        self.stats = RelayStats()
        if messages is not None:
            self.stats.message_samples = messages.samples
        self._client_closed = False
        self._loop = asyncio.get_running_loop()
        self._main: asyncio.Task | None = None
        self._timers: list[asyncio.TimerHandle] = []  # fixed ones: duration and close grace
        self._idle_timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task | None = None
        self._gave_up = False
        self._seen_total = -1
        self._last_change = 0.0
        self._delivering = False  # a control plane message is being sent: one at a time

    async def run(self) -> RelayStats:
        self._main = asyncio.current_task()
        # Chosen once per connection: a direction without onMessage policies keeps its plain loop.
        messages = self.messages
        inbound = messages.inbound if messages is not None else None
        outbound = messages.outbound if messages is not None else None
        down = self._backend_to_client() if outbound is None else self._policed_down(outbound)
        pump = self._loop.create_task(down)
        if self.max_duration > 0:
            self._timers.append(
                self._loop.call_later(
                    self.max_duration, self._expire, "maximum connection duration"
                )
            )
        if self.idle_timeout > 0:
            self._last_change = self._loop.time()
            self._watch_idle()
        try:
            if inbound is None:
                await self._client_to_backend()
            else:
                await self._policed_up(inbound)
        except asyncio.CancelledError:
            if not self._gave_up or self._main.uncancel():
                raise  # cancelled from outside, not (only) by our own grace timer
        finally:
            for timer in self._timers:
                timer.cancel()
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            await self._close_backend(1001, "gateway closing")
            if self._gave_up:
                pump.cancel()  # it may wait on a client that no longer reads
            if self._closing is not None and not self._closing.done():
                self._closing.cancel()
            if not pump.done():
                try:
                    await asyncio.wait_for(pump, timeout=1.0)
                except (TimeoutError, asyncio.CancelledError):
                    pump.cancel()
        return self.stats

    # client -> backend (runs in the connection's own task) -----------------------------------

    async def _client_to_backend(self) -> None:
        receive, backend, stats, limit = (
            self.receive,
            self.backend,
            self.stats,
            self.max_message_bytes,
        )
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    size = len(text) if text.isascii() else len(text.encode())
                    payload = text
                else:
                    payload = message.get("bytes") or b""
                    size = len(payload)
                if size > limit:
                    await self._client_too_big(size)
                    return
                stats.messages_up += 1
                stats.bytes_up += size
                try:
                    await backend.send(payload)
                except ConnectionClosed:
                    return  # the pump saw it too and closes the client
            elif kind == "websocket.disconnect":
                await self._client_disconnected(message)
                return

    async def _policed_up(self, check) -> None:
        """`_client_to_backend` with the onMessage inbound policies run on each message."""
        receive, backend, stats, limit = (
            self.receive,
            self.backend,
            self.stats,
            self.max_message_bytes,
        )
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    size = len(text) if text.isascii() else len(text.encode())
                    payload = text
                else:
                    payload = message.get("bytes") or b""
                    size = len(payload)
                if size > limit:
                    await self._client_too_big(size)
                    return
                try:
                    verdict = await check(payload, size)
                except Exception:
                    verdict = self._policy_failed()
                if verdict is not None:
                    if verdict.action == "drop":
                        stats.messages_dropped += 1
                        continue
                    await self._policy_close(verdict, sender="client")
                    return
                stats.messages_up += 1
                stats.bytes_up += size
                try:
                    await backend.send(payload)
                except ConnectionClosed:
                    return
            elif kind == "websocket.disconnect":
                await self._client_disconnected(message)
                return

    def _policy_failed(self) -> Verdict:
        log.exception("onMessage policy failed; closing the connection")  # once: it closes
        return POLICY_FAILED

    async def _policy_close(self, verdict, *, sender: str) -> None:
        """An onMessage policy stopped the connection: the sender and the other side get the
        verdict's codes (e.g. 1009 and 1001); the log records the sender's code."""
        if not self.stats.closed_by:  # a close already under way (revoked, expired) stays
            self._record("gateway", verdict.sender_code, verdict.reason)
            self.stats.by_policy = True
        if sender == "client":
            await self._close_both(verdict.sender_code, verdict.reason, verdict.other_code)
        else:
            await self._close_both(verdict.other_code, verdict.reason, verdict.sender_code)

    async def _client_disconnected(self, message) -> None:
        self._client_closed = True
        code = message.get("code")
        if code == closecodes.NO_STATUS and "reason" not in message:
            # Uvicorn reports a lost connection as 1005 without a reason key; a close frame
            # without a code also reads 1005, but always carries "reason".
            code = closecodes.ABNORMAL
        reason = message.get("reason") or ""
        if not self.stats.closed_by:
            self._record("client", code, reason)
        await self._close_backend(closecodes.from_client(code), reason)

    async def _client_too_big(self, size: int) -> None:
        self._record("gateway", closecodes.MESSAGE_TOO_BIG, "message too big")
        log.info("client message of %d bytes over the %d byte limit", size, self.max_message_bytes)
        await self._close_client(closecodes.MESSAGE_TOO_BIG, "message too big")
        await self._close_backend(closecodes.GOING_AWAY, "client message too big")

    # backend -> client (a task) -------------------------------------------------------------

    async def _backend_to_client(self) -> None:
        recv, send, stats = self.backend.recv, self.send, self.stats
        try:
            while True:
                data = await recv()
                stats.messages_down += 1
                if type(data) is str:
                    stats.bytes_down += len(data) if data.isascii() else len(data.encode())
                    await send({"type": "websocket.send", "text": data})
                else:
                    stats.bytes_down += len(data)
                    await send({"type": "websocket.send", "bytes": data})
        except ConnectionClosed as closed:
            await self._backend_closed(closed)
        except OSError:
            return  # the client went away while we wrote to it; the main task handles it

    async def _policed_down(self, check) -> None:
        """`_backend_to_client` with the onMessage outbound policies run on each message."""
        recv, send, stats = self.backend.recv, self.send, self.stats
        try:
            while True:
                data = await recv()
                if type(data) is str:
                    size = len(data) if data.isascii() else len(data.encode())
                    out = {"type": "websocket.send", "text": data}
                else:
                    size = len(data)
                    out = {"type": "websocket.send", "bytes": data}
                try:
                    verdict = await check(data, size)
                except Exception:
                    verdict = self._policy_failed()
                if verdict is not None:
                    if verdict.action == "drop":
                        stats.messages_dropped += 1
                        continue
                    await self._policy_close(verdict, sender="backend")
                    return
                stats.messages_down += 1
                stats.bytes_down += size
                await send(out)
        except ConnectionClosed as closed:
            await self._backend_closed(closed)
        except OSError:
            return

    async def _backend_closed(self, closed: ConnectionClosed) -> None:
        if self._client_closed:
            return
        if closed.rcvd is not None:
            code, reason = closecodes.from_backend(closed.rcvd.code), closed.rcvd.reason
            self._record("backend", closed.rcvd.code, reason)
        elif closed.sent is not None and closed.sent.code == closecodes.MESSAGE_TOO_BIG:
            code, reason = closecodes.GOING_AWAY, "backend message too big"
            self._record("gateway", closecodes.MESSAGE_TOO_BIG, reason)
        elif closed.sent is not None and closed.sent.code == closecodes.INVALID_DATA:
            code, reason = closecodes.BAD_GATEWAY, "backend sent invalid data"
            self._record("gateway", closecodes.INVALID_DATA, closed.sent.reason)
        elif closed.sent is not None and not self.stats.closed_by:
            code, reason = closecodes.GOING_AWAY, closed.sent.reason
            self._record("gateway", closed.sent.code, reason)
        else:
            code, reason = closecodes.BAD_GATEWAY, "backend connection lost"
            if not self.stats.closed_by:
                self._record("backend", closecodes.ABNORMAL, reason)
        await self._close_client(code, reason)
        # Uvicorn reports the client's disconnect at once; other servers when the client answers.
        self._timers.append(self._loop.call_later(self.close_grace, self._give_up_on_client))

    # closing ----------------------------------------------------------------------------------

    def _record(self, side: str, code: int | None, reason: str) -> None:
        self.stats.closed_by, self.stats.close_code, self.stats.close_reason = side, code, reason

    async def _close_client(self, code: int, reason: str) -> None:
        if self._client_closed:
            return
        self._client_closed = True
        code = closecodes.for_server(code, full_range=self.full_close_range)
        try:
            # A client that stopped reading leaves the server waiting to write: bounded here.
            async with asyncio.timeout(self.close_grace):
                await self.send({"type": "websocket.close", "code": code, "reason": reason})
        except TimeoutError:
            log.debug("client did not take the close frame within %.1f s", self.close_grace)
            await self._abort_client()
        except (OSError, RuntimeError):
            pass  # already gone

    async def _abort_client(self) -> None:
        """Drop the client's connection now, where the server can (uvicorn with our protocol)."""
        if self.can_abort:
            try:
                await self.send({"type": ABORT_EXTENSION})
            except (OSError, RuntimeError):
                pass

    async def _close_backend(self, code: int, reason: str) -> None:
        try:
            await self.backend.close(code, reason)
        except Exception:  # noqa: BLE001 - the backend is being dropped either way
            log.debug("backend close failed", exc_info=True)

    def _give_up_on_client(self) -> None:
        if self._main is not None and not self._main.done():
            self._gave_up = True
            self._main.cancel()
            if self.can_abort:
                self._loop.create_task(self._abort_client())

    def _expire(self, why: str) -> None:
        if not self.stats.closed_by:
            self._record("gateway", closecodes.GOING_AWAY, why)
        if self._closing is None:
            self._closing = self._loop.create_task(self._close_both(closecodes.GOING_AWAY, why))

    async def deliver(self, text: str | None, data: bytes | None) -> str:
        """Send one message from the control plane to the client (gateway.node.mailbox); an
        outcome of gateway.catalog.delivery. ASGI sends whole messages, so it may go between
        two of the backend's."""
        if self._client_closed or self.stats.closed_by:
            return GONE
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > self.max_message_bytes:
            return TOO_BIG
        if self._delivering:  # the previous one still waits on the client: not queued
            return FULL
        self._delivering = True
        message = {"type": "websocket.send"}
        message["text" if text is not None else "bytes"] = text if text is not None else data
        try:
            async with asyncio.timeout(DELIVER_SECONDS):
                await self.send(message)
        except TimeoutError:
            return FULL
        except (OSError, RuntimeError):
            return GONE
        finally:
            self._delivering = False
        self.stats.messages_down += 1
        self.stats.bytes_down += size
        return DELIVERED

    def revoke(self, reason: str) -> None:
        """Access was withdrawn: close the client with 1008 and the backend with 1001, now."""
        if not self.stats.closed_by:
            self._record("gateway", closecodes.POLICY_VIOLATION, reason)
        if self._closing is None:
            self._closing = self._loop.create_task(
                self._close_both(closecodes.POLICY_VIOLATION, reason, closecodes.GOING_AWAY)
            )

    async def _close_both(self, code: int, reason: str, backend_code: int | None = None) -> None:
        # The backend leg closes at once, whatever the client does with its close frame.
        backend = self._loop.create_task(self._close_backend(backend_code or code, reason))
        await self._close_client(code, reason)
        self._timers.append(self._loop.call_later(self.close_grace, self._give_up_on_client))
        await backend

    def _watch_idle(self) -> None:
        total = self.stats.messages_up + self.stats.messages_down
        now = self._loop.time()
        if total != self._seen_total:
            self._seen_total, self._last_change = total, now
        elif now - self._last_change >= self.idle_timeout:
            self._expire("idle timeout")
            return
        interval = max(0.05, self.idle_timeout / 4)
        self._idle_timer = self._loop.call_later(interval, self._watch_idle)
