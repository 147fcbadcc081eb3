"""Secrets stay out of the log even at DEBUG level (issue 12, item 15).

At DEBUG, uvicorn's WebSocket protocol and the `websockets` library (the backend leg) print
every handshake header; credential-bearing ones must come out redacted.
"""

import uuid

import pytest

from apis import services
from tests.support.client import run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)


def secret(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex}"


def test_no_credential_header_reaches_the_log_at_debug_level(catalog, server_logs):
    client = {
        "apikey": secret("apikey"),
        "Authorization": f"Bearer {secret('client-bearer')}",
        "Proxy-Authorization": f"Basic {secret('proxy-basic')}",
        "Cookie": f"sessionid={secret('session')}; csrftoken={secret('csrf')}",
        "X-Session-Token": secret("session-token"),
        "X-Client-Secret": secret("client-secret"),
        "X-Upstream-Key": secret("upstream-key"),
        "X-Amz-Security-Token": secret("amz"),
    }
    to_backend = secret("backend-bearer")
    backend_key = secret("backend-key")
    services.update_api(
        api=catalog.api,
        # A key header named like nothing secret: the API's configuration makes it one.
        subscription_key_header="X-Tenant",
        policy_xml=(
            "<policies><inbound>"
            '<set-header name="Authorization" exists-action="override">'
            f"<value>Bearer {to_backend}</value></set-header>"
            '<set-header name="X-Partner-Apikey" exists-action="override">'
            f"<value>{backend_key}</value></set-header>"
            "</inbound></policies>"
        ),
    )
    server = ServerProcess("uvicorn", server_logs, UVICORN_LOG_LEVEL="DEBUG", LOG_LEVEL="DEBUG")
    try:
        serve_current_catalog(server)

        async def scenario():
            headers = {"X-Tenant": catalog.key, **client}
            async with ws_connect(f"{server.ws_url}/echo", additional_headers=headers) as ws:
                await ws.send("hello")
                assert await ws.recv() == "hello"

        run(scenario())
    finally:
        server.stop()
    log = server.output()
    for name in ("x-tenant", "apikey", "authorization", "cookie", "x-partner-apikey"):
        assert f"{name}: [redacted]" in log.lower(), name  # logged, and redacted
    secrets = [catalog.key, to_backend, backend_key]
    for value in client.values():
        secrets += [part.split("=")[-1] for part in value.replace(";", " ").split()]
    leaked = [s for s in secrets if len(s) > 8 and s in log]
    assert leaked == [], [line for line in log.splitlines() if any(s in line for s in leaked)]


def test_other_shapes_of_credential_headers_are_redacted():
    from gateway.logredact import scrub

    text = scrub(
        "headers: [('set-cookie', 'sessionid=s3cr3t-cookie'), (b'x-api-key', b'k3y-value')]"
        "\n< Set-Cookie: csrftoken=csrf-value\nupstream said Bearer eyJhbGciOi.payload.sig"
    )
    for leaked in ("s3cr3t-cookie", "k3y-value", "csrf-value", "eyJhbGciOi"):
        assert leaked not in text, text
    assert "< Set-Cookie: [redacted]" in text


def test_remembered_secret_values_are_redacted_anywhere_in_a_line():
    from gateway.logredact import remember_secret_values, scrub

    token, longer = secret("token"), secret("longer")
    remember_secret_values([token, f"{token}{longer}", "abc"])
    try:
        text = scrub(
            f"> GET /feed/{token}/x HTTP/1.1 | ws://{token}{longer}@backend/ isn't a valid URI"
            " | abc stays: three characters would redact at random"
        )
    finally:
        remember_secret_values(())
    assert token not in text and longer not in text, text
    assert text == (
        "> GET /feed/[redacted]/x HTTP/1.1 | ws://[redacted]@backend/ isn't a valid URI"
        " | abc stays: three characters would redact at random"
    )
    assert scrub(f"/feed/{token}") == f"/feed/{token}"  # forgotten with the next snapshot
