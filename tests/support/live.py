"""The management API's live-connection list, read the way a publisher's script reads it: a
signed-in publisher client, the list, and a bounded wait until it shows what a test expects."""

import asyncio
import time

from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from apis import services
from apis.permissions import PUBLISHERS_GROUP

BOUND = 2.0  # seconds: the list follows opens and closes, and a disconnect lands, within this


def publisher_client() -> APIClient:
    user = User.objects.create_user("pub", password="pw", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=PUBLISHERS_GROUP)[0])
    token = services.create_access_token(user=user, name="live")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def listed(client: APIClient, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/connections/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def count_of(client: APIClient, n: int, query: str = ""):
    """A reader for `until`: the list once it holds `n` connections."""

    def read():
        rows = listed(client, query)
        return rows if len(rows) == n else None

    return read


async def until(read, what: str, bound: float = BOUND):
    """Poll `read` (a blocking call, run in a thread) until truthy; (value, seconds) or fail."""
    started = time.monotonic()
    while True:
        value = await asyncio.to_thread(read)
        elapsed = time.monotonic() - started
        if value:
            return value, elapsed
        if elapsed > bound:
            raise AssertionError(f"not within {bound} s: {what}")
        await asyncio.sleep(0.05)
