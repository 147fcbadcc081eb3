"""Start the test OpenID Connect provider (tests/support/oidc_provider) in its own process.

`OidcProvider(port_of_portal, tmp_dir)` registers the portal's callback and post-sign-out URLs,
waits until discovery answers, and offers `set_user(...)` to create or change a user at the
provider (its groups are the role claim).
"""

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.backend import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "portico", "portico-secret"  # noqa: S105 - the tests' client


class OidcProvider:
    def __init__(self, portal_port: int, state_dir: Path, *, id_token_seconds: int = 300):
        self.port = free_port()
        state_dir.mkdir(parents=True, exist_ok=True)
        portal = f"http://127.0.0.1:{portal_port}"
        self.log_path = state_dir / "provider.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "OIDC_PROVIDER_ID_TOKEN_SECONDS": str(id_token_seconds),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.oidc_provider",
                str(self.port),
                str(state_dir),
                f"{portal}/accounts/oidc/callback/",
                f"{portal}/",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/o"

    def portal_env(self, **extra: str) -> dict[str, str]:
        """The portal's settings for this provider."""
        return {
            "PORTICO_OIDC_ISSUER": self.issuer,
            "PORTICO_OIDC_CLIENT_ID": CLIENT_ID,
            "PORTICO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PORTICO_OIDC_PROVIDER_NAME": "Test IdP",
            "PORTICO_OIDC_ROLE_CLAIM": "groups",
            "PORTICO_OIDC_ADMIN_VALUES": "portico-admins",
            "PORTICO_OIDC_PUBLISHER_VALUES": "api-team,platform",
            **extra,
        }

    def set_user(
        self, username: str, password: str, *, email="", email_verified=False, groups=()
    ) -> str:
        """Create or change a user at the provider; returns its subject."""
        body = json.dumps(
            {
                "username": username,
                "password": password,
                "email": email,
                "email_verified": email_verified,
                "groups": list(groups),
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/control/user", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["sub"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OIDC provider exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the OIDC provider did not start: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # its signal to stop
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
