"""Connect tickets through the real gateway: accepted once in place of the key, then refused."""

import os
import time

import httpx
import pytest

from apis import services
from tests.support.client import refused, run, ws_connect
from tests.support.servers import ServerProcess, serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="REDIS_URL not set (CI sets it)"
)


def mint(server, subscription, *, key: str | None = None, token: str | None = None, **body):
    """POST connectTickets on `server`, proving the subscription by its key or a token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if token is None:
        headers["Ocp-Apim-Subscription-Key"] = key or subscription.primary_key
    response = httpx.post(
        f"{server.http_url}/api/v1/subscriptions/{subscription.pk}/connectTickets/",
        json={"api": subscription.product.apis.first().name, **body},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def echo(url: str, **kwargs) -> str:
    async with ws_connect(url, **kwargs) as ws:
        await ws.send("hi")
        return await ws.recv()


def test_a_ticket_connects_once_and_never_reaches_the_backend(gateway, catalog, backend):
    serve_current_catalog(gateway)
    minted = mint(gateway, catalog.subscription)
    assert minted["url"].startswith(f"{gateway.ws_url}/echo?ticket=")
    assert catalog.key not in minted["url"]

    assert run(echo(minted["url"] + "&room=7")) == "hi"
    seen = backend.requests[-1]
    assert "ticket" not in seen.path and "room=7" in seen.path

    again = run(refused(minted["url"]))
    assert again.status == 401
    assert "already used" in again.body["message"]
    assert minted["ticket"] not in gateway.output()


def test_a_publisher_token_mints_too(gateway, catalog, backend):
    from django.contrib.auth.models import User

    staff = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    _, secret = services.create_access_token(user=staff, name="app server")
    serve_current_catalog(gateway)
    minted = mint(gateway, catalog.subscription, token=secret)
    assert run(echo(minted["url"])) == "hi"


def test_an_expired_ticket_is_401(gateway, catalog, backend):
    serve_current_catalog(gateway)
    minted = mint(gateway, catalog.subscription, expires_in=1)
    time.sleep(1.5)
    result = run(refused(minted["url"]))
    assert result.status == 401
    assert "expired" in result.body["message"]
    assert backend.requests == []


def test_a_ticket_for_another_api_or_tampered_is_401(gateway, catalog, backend):
    services.create_api(
        display_name="Other",
        backend_url=f"{backend.url}/other",
        url_suffix="other",
        gateways=[catalog.gateway],
        products=[catalog.product],
    )
    serve_current_catalog(gateway)
    minted = mint(gateway, catalog.subscription)
    elsewhere = run(refused(f"{gateway.ws_url}/other?ticket={minted['ticket']}"))
    assert elsewhere.status == 401
    assert "another API" in elsewhere.body["message"]
    tampered = run(refused(minted["url"][:-3] + ("AAA" if minted["url"][-3:] != "AAA" else "BBB")))
    assert tampered.status == 401
    assert "signature" in tampered.body["message"]
    assert run(echo(minted["url"])) == "hi"  # refusals elsewhere did not spend it


def test_a_ticket_bound_to_an_origin_needs_that_origin(gateway, catalog, backend):
    serve_current_catalog(gateway)
    minted = mint(gateway, catalog.subscription, origin="https://app.example")
    for origin in (None, "https://evil.example"):
        result = run(refused(minted["url"], origin=origin))
        assert result.status == 401
        assert "another Origin" in result.body["message"]
    assert run(echo(minted["url"], origin="https://app.example")) == "hi"


@needs_redis
def test_a_ticket_is_single_use_across_gateway_processes(catalog, backend, server_logs):
    """Two gateway processes sharing Redis: the ticket spent on one is refused by the other."""
    shared = {"REDIS_URL": os.environ["REDIS_URL"], "PORTICO_LIMITS_KEY_PREFIX": "tickets-test"}
    first = ServerProcess("gateway", server_logs, **shared)
    second = ServerProcess("gateway", server_logs, **shared)
    try:
        serve_current_catalog(first, second)
        minted = mint_directly(catalog)
        assert run(echo(f"{first.ws_url}/echo?ticket={minted}")) == "hi"
        result = run(refused(f"{second.ws_url}/echo?ticket={minted}"))
        assert result.status == 401
        assert "already used" in result.body["message"]
    finally:
        first.stop()
        second.stop()


def mint_directly(catalog) -> str:
    """A ticket as the control plane mints it (the gateway processes serve no REST API)."""
    from apis import tickets

    return tickets.issue(catalog.subscription, api_name=catalog.api.name).text
