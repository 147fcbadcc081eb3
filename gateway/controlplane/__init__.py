"""The link to the control plane: one interface, two implementations, chosen once at start-up.

A managed gateway's link is the database (`database.DatabaseLink`, the only gateway module that
imports `apis`); a self-hosted node's is the control plane's HTTP node endpoints
(`http.HttpLink`, with its last good configuration on disk). The composition root
(`gateway.lifecycle.build_link`) picks one; the snapshot store, the heartbeat, the live sessions
reporter and the telemetry recorder all talk through it and never ask which it is.
"""

from typing import Protocol

from gateway.catalog.contract import GatewayCatalog


class ControlPlaneError(Exception):
    """The control plane could not be reached or refused the request (message says which)."""


class ControlPlaneLink(Protocol):
    """What a gateway process asks of the control plane (nothing per handshake or message)."""

    async def load_catalog(self) -> GatewayCatalog:
        """The first catalog; raises when none can be had (the store retries)."""

    async def next_catalog(self, revision: int) -> GatewayCatalog | None:
        """A catalog newer than `revision`, or None when nothing changed within the wait."""

    async def send_heartbeat(self, report: dict) -> None:
        """Store one heartbeat report (fields: `gateway.node.heartbeat.Heartbeat.report`)."""

    async def send_live_report(self, report: dict) -> dict:
        """Store one live connections report; the answer: {"disconnect": connections asked to
        close ({id, reason}), "messages": control channel messages (gateway.catalog.delivery)}."""

    async def write_telemetry(self, **batch) -> None:
        """Store one telemetry batch; raises when it was not stored (it stays spooled)."""

    def telemetry_spool(self, config):
        """Where batches wait for `write_telemetry`: memory (database) or disk (HTTP)."""

    async def close(self) -> None: ...
