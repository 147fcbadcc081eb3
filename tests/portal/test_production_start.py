"""The documented production steps work as written with DEBUG off (issue 12, item 21).

With DEBUG off, pages name their CSS through whitenoise's manifest; a portal started without
collected static files answered 500 ("Missing staticfiles manifest entry") on every page.
A portal started on a database it cannot use answered 500 on every page too (issue 30, item 5):
it refuses to start instead, saying what to do.
"""

import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support.backend import free_port
from tests.support.servers import ROOT


def production_commands() -> list[list[str]]:
    """The `manage.py …` lines of the deployment page's "Serving in production" code block."""
    page = (ROOT / "docs" / "deployment.md").read_text()
    section = page.split("## Serving in production", 1)[1]
    block = re.search(r"```sh\n(.+?)\n```", section, re.S).group(1)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("manage.py")]


def production_env(tmp_path, static_root) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "STATIC_ROOT"):
        env.pop(name, None)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_COOKIES="0",
        PORTICO_VAR_DIR=str(tmp_path / "var"),  # a fresh SQLite database
        STATIC_ROOT=str(static_root),
        PYTHONUNBUFFERED="1",
    )
    return env


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start_portal(argv: list[str], env: dict, log) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = list(argv)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    process = subprocess.Popen(
        [sys.executable, *argv], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return process, port


def wait_listening(process: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            get(f"http://127.0.0.1:{port}/healthz")
            return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_the_documented_production_steps_serve_pages_with_debug_off(tmp_path):
    commands = production_commands()
    assert any(c[:2] == ["manage.py", "run_portal"] for c in commands), commands
    env = production_env(tmp_path, tmp_path / "static")  # STATIC_ROOT does not exist yet
    log_path = tmp_path / "portal.log"
    with open(log_path, "wb") as log:
        for argv in commands:
            if argv[1] in ("run_portal", "run_gateway"):
                continue
            done = subprocess.run(
                [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, timeout=300
            )
            assert done.returncode == 0, done.stderr.decode()[-2000:]
        portal_argv = next(c for c in commands if c[1] == "run_portal")
        process, port = start_portal(portal_argv, env, log)
        try:
            assert wait_listening(process, port), log_path.read_text()
            for path in ("/", "/accounts/login/", "/apis/", "/api/schema/swagger-ui/"):
                assert get(f"http://127.0.0.1:{port}{path}") == 200, (path, log_path.read_text())
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as page:  # noqa: S310
                css = re.search(r'href="(/static/[^"]+\.css)"', page.read().decode()).group(1)
            assert get(f"http://127.0.0.1:{port}{css}") == 200
            # Swagger UI's own assets (drf-spectacular-sidecar) are collected and served too.
            docs = f"http://127.0.0.1:{port}/api/schema/swagger-ui/"
            with urllib.request.urlopen(docs) as page:  # noqa: S310
                scripts = re.findall(r'src="(/static/[^"]+\.js)"', page.read().decode())
            assert scripts and all(get(f"http://127.0.0.1:{port}{js}") == 200 for js in scripts)
        finally:
            stop(process)
    assert "Missing staticfiles manifest entry" not in log_path.read_text()


def test_start_up_refuses_with_what_to_run_when_static_files_cannot_be_collected(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = production_env(tmp_path, blocker / "static")  # cannot be created
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    portal_argv = next(c for c in production_commands() if c[1] == "run_portal")
    with open(tmp_path / "portal.log", "wb") as log:
        process, port = start_portal(portal_argv, env, log)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail("run_portal started although its static files are missing")
        finally:
            stop(process)
    output = (tmp_path / "portal.log").read_text()
    assert code != 0
    assert "manage.py collectstatic --noinput" in output and "Traceback" not in output, output


def refused_start(env: dict, log_path) -> tuple[int, str]:
    """Start run_portal as the README does; (exit code, output) once it has refused."""
    portal_argv = next(c for c in production_commands() if c[1] == "run_portal")
    with open(log_path, "wb") as log:
        process, port = start_portal(portal_argv, env, log)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop(process)
    output = log_path.read_text()
    assert code is not None, f"run_portal started on a database it cannot use:\n{output}"
    return code, output


def test_start_up_refuses_an_unmigrated_database_naming_migrate(tmp_path):
    env = production_env(tmp_path, tmp_path / "static")  # a fresh, empty SQLite database
    code, output = refused_start(env, tmp_path / "portal.log")
    assert code != 0
    assert "unapplied migration" in output and "manage.py migrate" in output, output
    assert "Traceback" not in output, output


def test_start_up_refuses_an_unreachable_database_naming_host_and_port(tmp_path):
    password = secrets.token_urlsafe(12)
    port = free_port()  # nothing listens there
    env = production_env(tmp_path, tmp_path / "static")
    env["DATABASE_URL"] = f"postgres://portico:{password}@127.0.0.1:{port}/portico"
    code, output = refused_start(env, tmp_path / "portal.log")
    assert code != 0
    assert f"127.0.0.1:{port}" in output and "Connection refused" in output, output
    assert password not in output and "Traceback" not in output, output
