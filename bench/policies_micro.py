"""Micro-benchmark of the policy pipeline per handshake: prints figures, asserts nothing.

Run: .venv/bin/python bench/policies_micro.py
"""

import asyncio
import base64
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jwt  # noqa: E402

from gateway.policies import (  # noqa: E402
    HandshakeContext,
    PolicyRuntime,
    compile_policy,
    effective_document,
)

SECRET = os.urandom(32)
TOKEN = jwt.encode({"aud": "bench", "exp": int(time.time()) + 3600}, SECRET, "HS256")
CASES = {
    "empty": "",
    "check-header": '<check-header name="X-Client" failed-check-httpcode="401"><value>web</value>'
    "</check-header>",
    "rate-limit-by-key": '<rate-limit-by-key calls="100000000" renewal-period="60" '
    'counter-key="@(context.Subscription.Id)"/>',
    "validate-jwt (HS256)": '<validate-jwt header-name="Authorization" require-scheme="Bearer">'
    f"<issuer-signing-keys><key>{base64.b64encode(SECRET).decode()}</key></issuer-signing-keys>"
    "<audiences><audience>bench</audience></audiences></validate-jwt>",
}
CASES["jwt + rate-limit-by-key"] = CASES["validate-jwt (HS256)"] + CASES["rate-limit-by-key"]


def context() -> HandshakeContext:
    return HandshakeContext(
        api_id="1",
        api_name="echo",
        subscription_id="7",
        peer_ip="127.0.0.1",
        headers=[("X-Client", "web"), ("Authorization", f"Bearer {TOKEN}")],
    )


async def measure(body: str, count: int) -> float:
    xml = f"<policies><inbound>{body}</inbound></policies>" if body else ""
    pipeline = compile_policy(effective_document(xml, [], None), PolicyRuntime())
    assert await pipeline.run(context()) is None
    started = time.process_time()
    for _ in range(count):
        await pipeline.run(context())
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    print(f"{'policy':<28}{'CPU µs per handshake':>22}")
    for name, body in CASES.items():
        print(f"{name:<28}{asyncio.run(measure(body, 5000)):>22.1f}")


if __name__ == "__main__":
    main()
