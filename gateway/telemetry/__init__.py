"""Gateway telemetry: connection records, per-minute figures, Prometheus metrics, JSON logs."""

from functools import cache


@cache
def get_recorder():
    """The process-wide recorder, writing through `apis.telemetry.services` in a worker thread."""
    from channels.db import database_sync_to_async
    from django.conf import settings

    from apis.telemetry import services as telemetry_services
    from gateway.telemetry.recorder import Recorder

    writer = None
    # A self-hosted node has no database (its records go to the control plane; see issue 11).
    if settings.PORTICO_TELEMETRY_ENABLED and not settings.SELF_HOSTED_NODE:
        writer = database_sync_to_async(telemetry_services.write_batch)
    return Recorder(
        gateway=settings.PORTICO_GATEWAY,
        writer=writer,
        buffer_size=settings.PORTICO_TELEMETRY_BUFFER_SIZE,
        batch_size=settings.PORTICO_TELEMETRY_BATCH_SIZE,
        flush_ms=settings.PORTICO_TELEMETRY_FLUSH_MS,
    )
