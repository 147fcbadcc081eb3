"""The SDK's connection control against the real gateway (both planes in one process): an
API-scoped token made with the SDK lists its API's connections, filters them by a tag that
set-connection-tag attached, sends to one and broadcasts to the tag, and is refused elsewhere."""

import pytest

from portico_client import PorticoClient, PorticoError
from tests.support.servers import serve_current_catalog
from tests.support.telemetry import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TAGGING = """<policies><inbound><base/>
<set-connection-tag name="room"
    value='@(context.Request.Headers.GetValueOrDefault("X-Room", "none"))' />
</inbound></policies>"""


def test_a_scoped_token_sends_and_broadcasts_by_tag_through_the_sdk(sdk, gateway, catalog):
    sdk.apis.set_policy("echo", TAGGING)
    serve_current_catalog(gateway)
    created = sdk.apis.create_token("echo", "pusher")
    assert created.token and created.token.startswith("pat_")
    assert [t.name for t in sdk.apis.list_tokens("echo")] == ["pusher"]
    assert sdk.apis.list_tokens("echo")[0].token is None  # the secret is shown once
    with (
        PorticoClient(gateway.http_url, created.token) as scoped,
        sdk.connect(
            "echo", subscription=catalog.subscription.pk, additional_headers={"X-Room": "lobby"}
        ) as ws,
    ):
        [row] = wait_for(lambda: list(scoped.connections.list(tag="room=lobby")), timeout=10)
        assert row.tags == {"room": "lobby"}
        assert list(scoped.connections.list(tag="room=other")) == []
        assert scoped.connections.send(row.id, text="to one").outcome == "delivered"
        assert ws.recv(timeout=10) == "to one"
        result = scoped.connections.broadcast(tag="room=lobby", data=b"\x00all")
        assert (result.matched, result.delivered, result.failed) == (1, 1, 0)
        assert ws.recv(timeout=10) == b"\x00all"
        with pytest.raises(PorticoError) as refused:
            list(scoped.apis.list())
        assert refused.value.status == 403
    with pytest.raises(PorticoError) as gone:
        sdk.connections.send("f" * 32, text="x")
    assert gone.value.status == 404
    sdk.apis.revoke_token("echo", created.id)
    with PorticoClient(gateway.http_url, created.token) as revoked, pytest.raises(PorticoError):
        list(revoked.connections.list())
