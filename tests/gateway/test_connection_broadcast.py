"""Tags and broadcasts through real self-hosted nodes: set-connection-tag from a request header,
tags in the live list and its `?tag=` filter, and a broadcast selected by API and tag reaching
every matching client on a node with Redis and on one without (the control channel), and no
other client."""

import asyncio
import os
import time

import pytest

from apis import services
from apis.models import Api
from tests.support.client import run, ws_connect
from tests.support.live import count_of, listed, publisher_client, until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a test Redis)"),
]

TAGGING = """<policies><inbound><base/>
<set-connection-tag name="room"
    value='@(context.Request.Headers.GetValueOrDefault("X-Room", "lobby"))' />
<set-connection-tag name="tier" value="gold" />
</inbound></policies>"""


def broadcast(client, body: dict):
    return client.post("/api/v1/connections/broadcast", body, format="json")


def test_tags_filter_the_list_and_select_a_broadcast_on_every_node(edge, edge_nodes):
    services.update_api(api=Api.objects.get(name="echo"), policy_xml=TAGGING)
    nodes = edge_nodes("with-redis", "no-redis", env={"no-redis": {"REDIS_URL": ""}})
    client = publisher_client()
    figures = {}

    async def scenario():
        url = f"/echo?subscription-key={edge.key}"
        sockets = {}
        try:
            for node in nodes:
                for room in ("lobby", "kitchen"):
                    headers = {"X-Room": room}
                    ws = await ws_connect(node.ws_url + url, additional_headers=headers)
                    sockets[(node.port, room)] = await ws.__aenter__()
            await until(count_of(client, 4), "all four listed", bound=5)
            rows = await asyncio.to_thread(listed, client, "?tag=room=lobby")
            assert len(rows) == 2
            assert {row["node"] for row in rows} == {"with-redis", "no-redis"}
            assert all(row["tags"] == {"room": "lobby", "tier": "gold"} for row in rows)
            assert len(await asyncio.to_thread(listed, client, "?tag=tier=gold")) == 4
            assert await asyncio.to_thread(listed, client, "?tag=room=attic") == []
            bad = await asyncio.to_thread(client.get, "/api/v1/connections/?tag=room")
            assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "tag"

            started = time.monotonic()
            body = {"api": "echo", "tag": "room=lobby", "text": "hello lobby"}
            response = await asyncio.to_thread(broadcast, client, body)
            figures["broadcast"] = time.monotonic() - started
            assert response.status_code == 200, response.content
            assert response.json() == {"matched": 2, "delivered": 2, "failed": 0}
            for node in nodes:
                got = await asyncio.wait_for(sockets[(node.port, "lobby")].recv(), 5)
                assert got == "hello lobby"
                with pytest.raises(TimeoutError):  # the kitchen heard nothing
                    await asyncio.wait_for(sockets[(node.port, "kitchen")].recv(), 0.3)

            body = {"gateway": "edge", "tag": "room=attic", "text": "nobody"}
            response = await asyncio.to_thread(broadcast, client, body)
            assert response.json() == {"matched": 0, "delivered": 0, "failed": 0}
            for body in ({"text": "no selector"}, {"api": "echo"}, {"tag": "x", "text": "t"}):
                response = await asyncio.to_thread(broadcast, client, body)
                assert response.status_code == 400, response.content
        finally:
            for ws in sockets.values():
                await ws.close()

    run(scenario())
    print(f"broadcast figures (s): {figures}")
