"""portal.settings imported in a fresh interpreter with exactly the environment a test gives, so
each test sees what a server started that way would (and this process's settings stay put)."""

import os
import subprocess
import sys

from tests.support.servers import ROOT

CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k
    not in (
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_SETTINGS_MODULE",
    )
}


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import portal.settings in a fresh interpreter with exactly this environment."""
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
        " 'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], 'debug': settings.DEBUG}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**CLEAN, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
