"""A real database outage for a server subprocess, on SQLite or PostgreSQL, from the test.

SQLite: the test holds the database's write lock (BEGIN EXCLUSIVE), so the server's writes wait
for their busy timeout (20 s) and then fail with "database is locked", as on a disk that stalls.
PostgreSQL: the database stops accepting connections and the server's are ended, so every write
fails to connect, as when the database host is down.
"""

import contextlib
import sqlite3
import time

from django.db import connection


@contextlib.contextmanager
def database_outage(seconds: float):
    """Make the test database unavailable to other processes for at least `seconds` after the
    block starts (the block itself runs during the outage)."""
    started = time.monotonic()
    if connection.vendor == "sqlite":
        path = connection.settings_dict["NAME"]
        lock = sqlite3.connect(path, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            yield
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    admin = psycopg.connect(  # another database: PostgreSQL will not lock out the current one
        dbname="postgres",
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or "127.0.0.1",
        port=settings.get("PORT") or 5432,
        autocommit=True,
    )
    try:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        yield
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
        connection.close()  # ended above: the test's next query opens a fresh one
