"""Two gateways whose catalogs must not mix (issue 23): "edge" and "other", each with its own API,
product, subscriptions and secret named values, plus what both share (an All APIs subscription,
a product offering both APIs, the All APIs policy)."""

from dataclasses import dataclass, field

from apis import services
from apis.models import Api, Gateway, Product, Subscription

EDGE_SECRET = "edge-secret-3f9a"
OTHER_SECRET = "other-secret-81c2"
OTHER_PRODUCT_SECRET = "other-product-secret-55d0"
GLOBAL_SECRET = "global-secret-0b7e"


def header_policy(name: str, value: str, *, base: str = "<base/>") -> str:
    return (
        f'<policies><inbound>{base}<set-header name="{name}" exists-action="override">'
        f"<value>{value}</value></set-header></inbound></policies>"
    )


@dataclass
class TwoGateways:
    edge: Gateway
    other: Gateway
    echo: Api  # on edge
    feed: Api  # on other
    starter: Product  # offers echo
    premium: Product  # offers feed
    bundle: Product  # offers both
    subs: dict[str, Subscription] = field(default_factory=dict)

    def ids(self, *names: str) -> list[int]:
        return sorted(self.subs[n].id for n in names)


def build(edge: Gateway, echo: Api, starter: Product, edge_sub: Subscription) -> TwoGateways:
    """Add "other" and its catalog next to an existing edge gateway (echo, starter, edge_sub)."""
    for name, value in (
        ("edge-token", EDGE_SECRET),
        ("other-token", OTHER_SECRET),
        ("other-product-token", OTHER_PRODUCT_SECRET),
        ("global-token", GLOBAL_SECRET),
    ):
        services.create_named_value(name=name, value=value, secret=True)
    services.set_global_policy(policy_xml=header_policy("X-Global", "{{global-token}}", base=""))
    services.update_api(api=echo, policy_xml=header_policy("X-Edge", "{{edge-token}}"))
    other = services.create_gateway(name="other", kind=Gateway.Kind.SELF_HOSTED)
    feed = services.create_api(
        display_name="Feed",
        backend_url="ws://127.0.0.1:9/feed",
        url_suffix="feed",
        gateways=[other],
        policy_xml=header_policy("X-Other", "{{other-token}}"),
    )
    premium = services.create_product(
        display_name="Premium",
        state=Product.State.PUBLISHED,
        apis=[feed],
        policy_xml=header_policy("X-Premium", "{{other-product-token}}"),
    )
    bundle = services.create_product(
        display_name="Bundle", state=Product.State.PUBLISHED, apis=[echo, feed]
    )
    subs = {"edge": edge_sub}
    create = services.create_subscription
    subs["premium"] = create(display_name="Premium sub", product=premium)
    subs["bundle"] = create(display_name="Bundle sub", product=bundle)
    subs["all"] = create(display_name="All sub", scope=Subscription.Scope.ALL_APIS)
    subs["echo_api"] = create(display_name="Echo sub", scope=Subscription.Scope.API, api=echo)
    subs["feed_api"] = create(display_name="Feed sub", scope=Subscription.Scope.API, api=feed)
    subs["premium_ended"] = create(display_name="Premium gone", product=premium)
    services.cancel_subscription(subscription=subs["premium_ended"])
    subs["starter_ended"] = create(display_name="Starter gone", product=starter)
    services.cancel_subscription(subscription=subs["starter_ended"])
    return TwoGateways(edge, other, echo, feed, starter, premium, bundle, subs)


def build_all() -> TwoGateways:
    """Both gateways from nothing: edge serves Echo, offered by Starter, with one subscription."""
    edge = services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
    echo = services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/echo", url_suffix="echo", gateways=[edge]
    )
    starter = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[echo]
    )
    edge_sub = services.create_subscription(display_name="Edge sub", product=starter)
    return build(edge, echo, starter, edge_sub)


# What edge's catalog holds, and what it must never hold.
EDGE_SUBSCRIPTIONS = ("edge", "bundle", "all", "echo_api")
EDGE_ENDED = ("starter_ended",)
