"""Live sessions: each open connection's identity, and the reporter telling the control plane.

`LiveConnections` (gateway.node.revocation) tells the reporter when a connection opens or
closes; the reporter batches those deltas and sends them every `INTERVAL` seconds with the
traffic counts that changed (read from each relay's live `RelayStats` only then: nothing per
message; which ones changed, the registry's `Activity` says, from one pass over the open
connections that the recorder shares), and its full list now and then or after a failed send.
The answer names the connections an administrator asked this process to close (they close through
`relay.revoke(reason)`) and brings the control channel's messages, which go to the process's
mailbox (gateway.node.mailbox); their outcomes go back at once in an extra report. It sends
through the process's link (`gateway.controlplane`): a self-hosted node to the control plane
with its node token, a managed process to the database in a worker thread. A process with no
connection and nothing to say sends nothing.
"""

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime

from gateway.catalog.delivery import BadDelivery, clean_request

log = logging.getLogger("portico.gateway")

INTERVAL = 0.5  # deltas and disconnect requests: the list is right within about a second
COUNTS_SECONDS = 1.0  # changed traffic counts
KEEPALIVE_SECONDS = 3.0  # the control plane forgets a process silent for 10 s
FULL_SECONDS = 60.0  # the whole list, repairing anything a lost answer left wrong
ANSWER_ROUNDS = 4  # reports sent back to back while messages keep coming with the answers
MAX_MESSAGES = 64  # control channel messages taken per answer (the control plane sends fewer)
MAX_PENDING = 10_000  # opens/closes waiting for a send; more and the next send is a full list
USER_AGENT_CHARS = 200


@dataclass(slots=True)
class Session:
    """One open connection as listed: never the key."""

    connection_id: str
    api_id: int
    api_name: str
    subscription_id: int | None
    product_id: int | None
    client_ip: str
    user_agent: str
    opened_at: datetime
    stats: object  # the relay's RelayStats: read when reporting, never written here
    tags: dict | None = None  # set-connection-tag's {name: value}
    # The sum of the counts last reported: they only grow, so an unchanged sum means unchanged
    # counts (an idle connection costs four reads and a comparison per scan, no tuple).
    reported: int = 0

    def counts(self) -> tuple[int, int, int, int]:
        s = self.stats
        return (s.messages_up, s.bytes_up, s.messages_down, s.bytes_down)

    def entry(self) -> dict:
        counts = self.counts()
        self.reported = sum(counts)
        return {
            "id": self.connection_id,
            "api_id": self.api_id,
            "api_name": self.api_name,
            "product_id": self.product_id,
            "subscription_id": self.subscription_id,
            "client_ip": self.client_ip,
            "user_agent": self.user_agent,
            "opened_at": self.opened_at.isoformat(),
            "messages_up": counts[0],
            "bytes_up": counts[1],
            "messages_down": counts[2],
            "bytes_down": counts[3],
            "tags": self.tags or {},
        }


def user_agent_of(scope: dict) -> str:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"user-agent":
            return value.decode("latin-1")[:USER_AGENT_CHARS]
    return ""


class SessionReporter:
    def __init__(self, live, *, send, node_id, deliver=None, interval: float = INTERVAL) -> None:
        self.live = live  # gateway.node.revocation.LiveConnections
        self.send = send  # the link's send_live_report(report) -> {"disconnect", "messages"}
        self.deliver = deliver  # the mailbox's handle(request) -> {connection id: outcome}
        self.answered: dict[str, dict] = {}  # control channel outcomes for the next report
        self.node_id = node_id  # callable: the node's id, known once run_gateway configured it
        self.interval = interval
        self.opened: dict[str, Session] = {}
        self.closed: set[str] = set()
        self.need_full = True  # the control plane knows nothing of a new process
        live.activity.reader("sessions")
        now = time.monotonic()
        self._counts_at = self._keepalive_at = self._full_at = now
        self._task: asyncio.Task | None = None
        self._failing = False

    # called by LiveConnections, once per connection each ------------------------------------

    def on_open(self, session: Session) -> None:
        if len(self.opened) >= MAX_PENDING:
            self._overflow()
            return
        self.opened[session.connection_id] = session

    def on_close(self, connection_id: str) -> None:
        if self.opened.pop(connection_id, None) is not None:
            return  # opened and closed between two sends: the control plane never hears of it
        if len(self.closed) >= MAX_PENDING:
            self._overflow()
            return
        self.closed.add(connection_id)

    def _overflow(self) -> None:
        self.opened.clear()
        self.closed.clear()
        self.need_full = True

    # the report ------------------------------------------------------------------------------

    def report(self, now: float) -> dict | None:
        """What to send now, or None when there is nothing to say or ask."""
        listed = self.live.session_count()
        report = {
            "node_id": self.node_id()[:100],
            "worker": str(os.getpid()),
            "full": False,
            "keepalive": False,
            "opened": [],
            "closed": [],
            "counts": [],
        }
        if self.answered:
            report["answered"], self.answered = self.answered, {}
        if self.need_full or now - self._full_at >= FULL_SECONDS:
            if not listed and not self.need_full and "answered" not in report:
                return None
            report["full"] = True
            report["opened"] = [session.entry() for session in self.live.sessions()]
            self.opened.clear()
            self.closed.clear()
            self.need_full = False
            self._full_at = self._counts_at = self._keepalive_at = now
            return report
        if not listed and not self.closed and "answered" not in report:
            return None  # nothing open, so nothing to list, count or disconnect
        report["opened"] = [session.entry() for session in self.opened.values()]
        report["closed"] = sorted(self.closed)
        self.opened.clear()
        self.closed.clear()
        if now - self._counts_at >= COUNTS_SECONDS:
            self._counts_at = now
            changed = report["counts"]
            for entry in self.live.activity.take("sessions"):
                session = entry.session
                if session is None:
                    continue  # closed since (its close is reported)
                counts = session.counts()
                total = sum(counts)
                if total != session.reported:
                    session.reported = total
                    changed.append([session.connection_id, *counts])
        if now - self._keepalive_at >= KEEPALIVE_SECONDS:
            report["keepalive"] = True
        written = report["opened"] or report["closed"] or report["counts"]
        if written or report["keepalive"] or "answered" in report:
            self._keepalive_at = now  # any write keeps the process listed
        return report

    async def tick(self) -> None:
        """Send a report; after delivering control channel messages, another with their
        outcomes at once (the sender waits for them), a few rounds at most."""
        for _ in range(ANSWER_ROUNDS):
            await self._tick()
            if not self.answered:
                return

    async def _tick(self) -> None:
        report = self.report(time.monotonic())
        if report is None:
            return
        try:
            answer = await self.send(report)
        except asyncio.CancelledError:
            self.need_full = True  # stopped mid-send: the final flush sends the whole list
            raise
        except Exception as exc:  # noqa: BLE001 - reporting must never disturb serving
            self.need_full = True  # what this report said is lost: resend everything
            self.answered.update(report.get("answered") or {})  # still owed: said next time
            if not self._failing:
                log.warning("live connections report failed: %s: %s", type(exc).__name__, exc)
            self._failing = True
            return
        if self._failing:
            log.info("live connections reported again")
        self._failing = False
        for notice in answer.get("disconnect", ()):
            self.live.disconnect(notice["id"], notice["reason"])
        messages = answer.get("messages")
        if messages and self.deliver is not None:
            await self._deliver(messages)

    async def _deliver(self, messages: list) -> None:
        """Hand the control channel's messages to the mailbox; `tick` reports the outcomes."""
        for message in messages[:MAX_MESSAGES]:
            try:
                request = clean_request(message)
            except BadDelivery as error:
                log.warning("messages to connections: ignored a malformed one (%s)", error)
                continue
            self.answered[request["id"]] = await self.deliver(request)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.tick()

    async def flush(self) -> None:
        """At shutdown, after connections closed: tell the control plane they are gone."""
        await self.tick()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
