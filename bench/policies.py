"""The policy set the benchmark puts on the Echo API to measure a guarded handshake."""

import base64
import json
import subprocess
import time
import urllib.request

import jwt

SECRET = b"portico-benchmark-signing-key-32b"
POLICY = (
    "<policies><inbound>"
    '<validate-jwt query-parameter-name="access_token">'
    f"<issuer-signing-keys><key>{base64.b64encode(SECRET).decode()}</key></issuer-signing-keys>"
    "<audiences><audience>bench</audience></audiences></validate-jwt>"
    '<rate-limit-by-key calls="100000000" renewal-period="60" '
    'counter-key="@(context.Subscription.Id)"/>'
    "</inbound></policies>"
)
LABEL = "key + validate-jwt (HS256) + rate-limit-by-key"


def token() -> str:
    return jwt.encode({"aud": "bench", "exp": int(time.time()) + 3600}, SECRET, "HS256")


def apply(python: str, root, env: dict, port: int) -> None:
    """Set the policy through the catalog services and wait until the gateway serves it."""
    before = _revision(port)
    code = (
        "from apis import services; from apis.models import Api;"
        f"services.update_api(api=Api.objects.get(url_suffix='echo'), policy_xml={POLICY!r})"
    )
    subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", code], cwd=root, env=env, check=True
    )
    deadline = time.monotonic() + 15
    while _revision(port) == before:
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway never loaded the benchmark policy")
        time.sleep(0.1)


def _revision(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_portico/gateway", timeout=5) as r:  # noqa: S310
        return json.load(r)["revision"]
