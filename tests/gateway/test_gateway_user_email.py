"""context.User.Email in a condition, through the real gateway: the owner's address reaches the
gateway because the API's policy reads it, and chooses a refusal."""

import pytest
from django.contrib.auth.models import User

from apis import services
from tests.support.client import refused, run, ws_connect
from tests.support.servers import serve_current_catalog

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = (
    "<policies><inbound><base/><choose>"
    "<when condition='@(context.User.Email.EndsWith(\"@blocked.example\"))'>"
    '<return-response><set-status code="403" reason="Blocked" /></return-response>'
    "</when></choose></inbound></policies>"
)


async def echo_once(url: str) -> str:
    async with ws_connect(url) as ws:
        await ws.send("hi")
        return await ws.recv()


def test_a_condition_on_the_owners_email_chooses_a_refusal(gateway, catalog, backend):
    blocked = User.objects.create_user("eve", "eve@blocked.example", "pw")
    welcome = User.objects.create_user("ann", "ann@ok.example", "pw")
    keys = {}
    for user in (blocked, welcome):
        sub = services.create_subscription(
            display_name=user.username, owner=user, product=catalog.product
        )
        if sub.state == "submitted":
            services.approve_subscription(subscription=sub)
        sub.refresh_from_db()
        keys[user.username] = sub.primary_key
    services.update_api(api=catalog.api, policy_xml=POLICY)
    serve_current_catalog(gateway)
    base = f"{gateway.ws_url}/echo?subscription-key="
    assert run(refused(base + keys["eve"])).status == 403
    assert run(echo_once(base + keys["ann"])) == "hi"
    services.update_api(api=catalog.api, policy_xml="")
