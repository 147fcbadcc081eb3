"""Settings come from the environment and refuse to start when production is misconfigured."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.support.fresh_settings import CLEAN, load_settings
from tests.support.servers import ROOT


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = load_settings(ALLOWED_HOSTS="portico.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_refuses_to_start_without_allowed_hosts_when_debug_is_off():
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_refuses_debug_on_a_public_host():
    result = load_settings(DEBUG="1", ALLOWED_HOSTS="portico.example")
    assert result.returncode != 0
    assert "DEBUG is on while ALLOWED_HOSTS names public host" in result.stderr


def test_a_serving_command_names_every_missing_setting_in_one_message(tmp_path):
    """Issue 30 item 2: the required settings were found one traceback at a time."""
    env = {
        **CLEAN,
        "PORTICO_VAR_DIR": str(tmp_path),
        "PORTICO_KEEPALIVE_SECONDS": "soon",
        "PORTICO_RELAY_MODE": "fast",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "run_portal", "--host", "127.0.0.1", "--port", "9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "PORTICO_KEEPALIVE_SECONDS", "PORTICO_RELAY_MODE"):
        assert result.stderr.count(name) == 1, (name, result.stderr)
    assert "4 settings need attention" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_a_self_hosted_node_names_every_missing_setting_in_one_message(tmp_path):
    result = load_settings(
        PORTICO_CONTROL_URL="https://portico.example",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        PORTICO_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "3 settings need attention" in result.stderr, result.stderr
    for needed in ("set PORTICO_GATEWAY_TOKEN", "needs PORTICO_GATEWAY ", "unset DATABASE_URL"):
        assert needed in result.stderr, (needed, result.stderr)


def test_rejects_a_malformed_boolean():
    result = load_settings(DEBUG="maybe")
    assert "DEBUG must be a boolean" in result.stderr


def test_demo_defaults_are_sqlite_and_in_memory_layer():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.sqlite3"' in result.stdout
    assert '"layer": "channels.layers.InMemoryChannelLayer"' in result.stdout


def test_urls_switch_to_postgresql_and_redis():
    result = load_settings(
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.postgresql"' in result.stdout
    assert '"layer": "channels_redis.core.RedisChannelLayer"' in result.stdout


@pytest.mark.django_db
def test_this_run_uses_the_database_named_by_database_url():
    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)")
def test_channel_layer_round_trips_through_redis():
    import asyncio

    from channels.layers import get_channel_layer

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"

    async def round_trip():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "portico.test", "n": 42})
        return await asyncio.wait_for(layer.receive(channel), 5)

    assert asyncio.run(round_trip())["n"] == 42
