"""The production quick start (docs/quickstart.md) runs as written, on a fresh database.

Its ```sh blocks run in order in one bash shell with `set -e`, DEBUG off, in the repository's
root. What the test substitutes, and nothing else: the install line (tested on its own by
test_run_it_installs_cli.py) gives way to this test's venv, `DATABASE_URL` and `REDIS_URL` become
this run's (a fresh SQLite file, or a fresh database on the PostgreSQL server of `DATABASE_URL`
when it is set; without `REDIS_URL` the gateway runs one worker), and the ports become free
ones. The serving commands run in the background of that shell; the test stops its process
group at the end.
"""

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.backend import free_port
from tests.support.servers import ROOT

PAGE = ROOT / "docs" / "quickstart.md"
INSTALL = "python3.11 -m venv .venv && .venv/bin/pip install -q -r requirements.txt\n"
ACTIVATE = ". .venv/bin/activate\n"
PORTS = ("8080", "8000", "8001", "9001")  # portal, managed gateway, self-hosted node, echo


def page_script() -> str:
    blocks = re.findall(r"^```sh\n(.*?)^```$", PAGE.read_text(), re.S | re.M)
    assert blocks, "no ```sh blocks in docs/quickstart.md"
    return "".join(blocks)


def substitute(script: str, database_url: str, redis_url: str | None) -> str:
    for text in (INSTALL, ACTIVATE):
        assert text in script, f"the page no longer says {text!r}: update this test"
    script = script.replace(INSTALL, "").replace(ACTIVATE, f". {Path(sys.prefix)}/bin/activate\n")
    database = f"export DATABASE_URL={database_url}"
    script, count = re.subn(r"^export DATABASE_URL=.*$", database, script, flags=re.M)
    assert count == 1, "one `export DATABASE_URL=` line"
    redis = f"export REDIS_URL={redis_url}" if redis_url else "unset REDIS_URL"
    script, count = re.subn(r"^export REDIS_URL=.*$", redis, script, flags=re.M)
    assert count == 1, "one `export REDIS_URL=` line"
    if not redis_url:  # more than one worker needs shared counters
        script = script.replace("--workers 2", "--workers 1")
    for port in PORTS:
        assert re.search(rf"\b{port}\b", script), f"the page no longer uses port {port}"
        script = re.sub(rf"\b{port}\b", str(free_port()), script)
    return script


@contextmanager
def fresh_database(tmp_path: Path):
    """A new, empty database: SQLite in tmp, or one created (and dropped) on PostgreSQL."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'portico.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(server)
    name = f"{parts.path.lstrip('/') or 'portico'}_quickstart_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def stop_group(process: subprocess.Popen) -> None:
    """Stop the shell's process group: the servers the page started in the background."""
    for signum, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.mark.timeout(600)
def test_the_production_quick_start_runs_as_written(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "PORTICO_", "VIRTUAL_ENV"))
        and k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    env.update(
        HOME=str(tmp_path),  # no ~/.config/portico of the machine's user
        PORTICO_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),  # collected by run_portal, not into the checkout
        PYTHONUNBUFFERED="1",
    )
    with fresh_database(tmp_path) as database_url:
        script = substitute(page_script(), database_url, os.environ.get("REDIS_URL"))
        (tmp_path / "quickstart.sh").write_text(script)
        log = tmp_path / "quickstart.log"
        with open(log, "wb") as out:
            shell = subprocess.Popen(
                ["bash", "-euo", "pipefail", str(tmp_path / "quickstart.sh")],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, with the servers it starts
            )
            try:
                code = shell.wait(timeout=480)
            finally:
                stop_group(shell)
        output = log.read_text(errors="replace")
    assert code == 0, output
    assert "\nHello through Portico\n" in output, output  # what the clients printed
    assert "\nHello through the edge node\n" in output, output
    assert output.count('"ready": true') == 2, output  # the gateways' status, steps 7 and 9
    assert "export PORTICO_GATEWAY=edge\n" in output, output  # `portico gateway token edge`
    assert "Traceback" not in output, output
