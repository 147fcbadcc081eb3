"""Event-source APIs for tests: an API fed by a broker in a published product, its clients' URL,
and a JetStream stream of our own on a NATS server."""

import uuid

import nats

from apis import services
from apis.models import Product
from tests.support.brokers import unique_name
from tests.support.client import run


def event_api(backend_url: str, source: dict, suffix: str = "prices", *, with_subscription=False):
    """An event-source API in a published product, and a subscription key for it."""
    api = services.create_api(
        display_name=f"Stream {suffix}",
        backend_url=backend_url,
        url_suffix=suffix,
        source=source,
        gateways=[services.ensure_builtin_gateway()],
    )
    product = services.create_product(
        display_name=f"Events {suffix}", state=Product.State.PUBLISHED, apis=[api]
    )
    subscription = services.create_subscription(display_name="Reader", product=product)
    if with_subscription:
        return api, subscription
    return api, subscription.primary_key


def url(gateway, suffix: str, key: str, extra: str = "") -> str:
    return f"{gateway.ws_url}/{suffix}?subscription-key={key}{extra}"


class JetStream:
    """A JetStream stream of our own (unique name and subjects) on a NATS server; each event
    loop (each `run`) opens its own client with `connect()`."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.prefix = unique_name("ev26")
        self.name = "S" + uuid.uuid4().hex[:12]
        run(self._create())

    async def _create(self) -> None:
        nc = await nats.connect(self.server, allow_reconnect=False)
        await nc.jetstream().add_stream(name=self.name, subjects=[f"{self.prefix}.>"])
        await nc.close()

    async def connect(self) -> None:
        self.nc = await nats.connect(self.server, allow_reconnect=False)
        self.js = self.nc.jetstream()

    async def publish(self, subject: str, data: bytes) -> int:
        return (await self.js.publish(f"{self.prefix}.{subject}", data)).seq

    def delete(self) -> None:
        async def delete():
            nc = await nats.connect(self.server, allow_reconnect=False)
            await nc.jetstream().delete_stream(self.name)
            await nc.close()

        run(delete())
