"""Process start and stop for a gateway node: load the catalog at start, flush telemetry at stop."""

import asyncio
import gc
import logging

from gateway.heartbeat import get_heartbeat
from gateway.sessions import get_reporter
from gateway.store import get_store
from gateway.telemetry import get_recorder
from gateway.telemetry.spool import DiskSpool

log = logging.getLogger("portico.gateway")

SHUTDOWN_FLUSH_SECONDS = 5.0


async def lifespan_app(scope, receive, send) -> None:
    """ASGI lifespan: start loading the catalog (in the background, so the server listens and
    answers 503 until it is there); at shutdown (after connections closed), flush."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # What the process loaded to start lives as long as it: frozen, it is out of the
            # collector's way, and a full collection no longer walks its ~120,000 objects
            # (about 25 ms, which every message in flight would wait out).
            gc.collect()
            gc.freeze()
            get_store().start()
            get_heartbeat().start()
            get_reporter().start()
            get_recorder().start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def shutdown() -> None:
    recorder = get_recorder()
    if recorder.writer is not None:
        try:
            written = await asyncio.wait_for(recorder.flush(force=True), SHUTDOWN_FLUSH_SECONDS)
            log.info("telemetry flushed at shutdown: %d connection record(s)", written)
        except Exception:  # noqa: BLE001 - shutting down either way
            log.exception("telemetry flush at shutdown failed")
        left = recorder.spool.records if len(recorder.spool) else 0
        if left and isinstance(recorder.spool, DiskSpool):
            log.warning(
                "telemetry: %d record(s) stay in the spool on disk for the next start", left
            )
        elif left:
            log.error("telemetry: %d record(s) could not be written before shutdown", left)
    recorder.stop()
    reporter = get_reporter()
    reporter.stop()
    try:  # the connections closed before shutdown: take them off the list now, not in 15 s
        await asyncio.wait_for(reporter.flush(), SHUTDOWN_FLUSH_SECONDS)
    except Exception:  # noqa: BLE001 - shutting down either way
        log.exception("live connections report at shutdown failed")
    get_heartbeat().stop()
    get_store().stop()
