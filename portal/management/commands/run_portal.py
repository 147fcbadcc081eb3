"""Serve the control plane (pages, admin, REST API, node endpoints); no WebSocket APIs."""

import signal

import uvicorn
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from apis.nodes.shutdown import release_held_polls
from portal.collected_static import ensure_collected


class Command(BaseCommand):
    help = "Serve the portal, admin and management API (control plane only) with uvicorn."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)

    def handle(self, *args, host: str, port: int, **options) -> None:
        check_database()  # else every page answers 500 and only the log says why
        ensure_collected(self.stdout.write)  # pages need their CSS and scripts (DEBUG off)
        self.stdout.write(f"Portico portal on http://{host}:{port}/ (admin at /admin/)")
        config = uvicorn.Config(
            "portal.asgi:control_plane",
            host=host,
            port=port,
            lifespan="off",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            # Access lines would print query strings; nothing here should log them.
            access_log=False,
            server_header=False,
            proxy_headers=False,
            log_config=None,
        )
        # uvicorn handles SIGTERM while it serves, then raises it again once it has shut down:
        # with the default handler the process died there, before saying it stopped.
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
        try:
            PortalServer(config).run()
        except KeyboardInterrupt:
            pass  # SIGTERM or Ctrl-C: a normal stop
        self.stdout.write("Portico portal stopped.")


class PortalServer(uvicorn.Server):
    """uvicorn, ending held node long-polls as soon as shutdown begins (it waits for them)."""

    async def shutdown(self, sockets=None) -> None:
        release_held_polls()
        await super().shutdown(sockets)


def _stop_like_ctrl_c(signum, frame) -> None:
    raise KeyboardInterrupt


def check_database() -> None:
    """Refuse to start, saying what to do, if the database is unreachable or not migrated."""
    connection = connections[DEFAULT_DB_ALIAS]
    settings = connection.settings_dict
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(
            f"Cannot use the database at {where(settings)} ({reason(exc, settings)}). "
            "Check DATABASE_URL and that the database server is running, then start again."
        ) from None
    finally:
        connection.close()  # the server opens its own connections
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:3])
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        raise CommandError(
            f"The database at {where(settings)} has {len(pending)} unapplied migration(s) "
            f"({names}{more}): run `manage.py migrate`, then start again."
        )


def where(settings: dict) -> str:
    """Host, port and database name (or the SQLite file): never the user's password."""
    if settings["ENGINE"].endswith("sqlite3"):
        return f"{settings['NAME']} (SQLite)"
    host = settings.get("HOST") or "localhost"
    return f"{host}:{settings.get('PORT') or 'default port'}/{settings.get('NAME')}"


def reason(exc: Exception, settings: dict) -> str:
    """The driver's message on one line, with the password blanked in case the driver echoes it."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text.rstrip(".") or type(exc).__name__
    password = settings.get("PASSWORD")
    return text.replace(password, "***") if password else text
