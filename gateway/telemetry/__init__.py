"""Gateway telemetry: connection records, per-minute figures, Prometheus metrics, JSON logs."""

from functools import cache


@cache
def get_recorder():
    """The process-wide recorder: a managed process writes to the database (through
    `apis.telemetry.services`, in a worker thread) from an in-memory spool; a self-hosted node
    posts to the control plane from a spool on disk."""
    from django.conf import settings

    from gateway.telemetry.recorder import Recorder
    from gateway.telemetry.spool import DiskSpool, MemorySpool

    writer, spool = None, None
    bound = settings.PORTICO_TELEMETRY_SPOOL_RECORDS
    if settings.PORTICO_TELEMETRY_ENABLED and settings.SELF_HOSTED_NODE:
        from gateway.catalog.wire import encode_batch
        from gateway.telemetry.shipping import control_plane_writer

        writer = control_plane_writer()
        directory = settings.VAR_DIR / f"telemetry-spool-{settings.PORTICO_GATEWAY}"
        spool = DiskSpool(directory, bound, encode=encode_batch)
    elif settings.PORTICO_TELEMETRY_ENABLED:
        from channels.db import database_sync_to_async

        from apis.telemetry import services as telemetry_services

        writer = database_sync_to_async(telemetry_services.write_batch)
        spool = MemorySpool(bound)
    return Recorder(
        gateway=settings.PORTICO_GATEWAY,
        writer=writer,
        buffer_size=settings.PORTICO_TELEMETRY_BUFFER_SIZE,
        batch_size=settings.PORTICO_TELEMETRY_BATCH_SIZE,
        flush_ms=settings.PORTICO_TELEMETRY_FLUSH_MS,
        spool=spool,
    )
