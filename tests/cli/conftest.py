"""Run the installed `portico` command against the live server on a loopback port."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from apis import services
from apis.permissions import PUBLISHERS_GROUP

PORTICO = Path(sys.executable).parent / "portico"  # installed by `pip install -e .`


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def publisher_token(transactional_db) -> str:
    user = User.objects.create_user("publisher", "p@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=PUBLISHERS_GROUP)[0])
    return services.create_access_token(user=user, name="cli")[1]


@pytest.fixture
def portico(gateway, publisher_token, tmp_path):
    """`portico("api", "list")` runs the real command; env overrides via keyword arguments."""

    def run(*args: str, stdin: str | None = None, **env: str) -> Result:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "PORTICO_URL": gateway.http_url,
            "PORTICO_TOKEN": publisher_token,
            **env,
        }
        environment = {k: v for k, v in environment.items() if v is not None}
        done = subprocess.run(
            [str(PORTICO), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run
