"""A gateway's catalog holds only what reaches its own APIs (issue 23, item 1): the products and
subscriptions that open them, their policies and only the secret values those policies use. A
managed gateway loads the same catalog from the database; a self-hosted node pulls it as JSON."""

import json

import pytest

from apis import selectors, services
from apis.models import Gateway
from apis.wire import catalog_to_json
from tests.support import two_gateways
from tests.support.two_gateways import (
    EDGE_ENDED,
    EDGE_SECRET,
    EDGE_SUBSCRIPTIONS,
    GLOBAL_SECRET,
    OTHER_PRODUCT_SECRET,
    OTHER_SECRET,
)

pytestmark = pytest.mark.django_db


def test_each_gateway_gets_only_its_apis_products_subscriptions_and_secrets():
    world = two_gateways.build_all()

    edge = selectors.gateway_catalog("edge")
    assert [api.id for api in edge.apis] == [world.echo.id]
    assert [p.id for p in edge.products] == sorted([world.starter.id, world.bundle.id])
    assert [s.id for s in edge.subscriptions] == world.ids(*EDGE_SUBSCRIPTIONS)
    assert [sub_id for sub_id, _ in edge.ended_subscriptions] == world.ids(*EDGE_ENDED)
    assert sorted(edge.secret_values) == sorted([EDGE_SECRET, GLOBAL_SECRET])
    assert edge.secret_headers == ("X-Edge", "X-Global")
    text = json.dumps(catalog_to_json(edge))
    assert OTHER_SECRET not in text and OTHER_PRODUCT_SECRET not in text
    assert "Premium" not in text and "Feed" not in text

    other = selectors.gateway_catalog("other")
    assert [api.id for api in other.apis] == [world.feed.id]
    assert [p.id for p in other.products] == sorted([world.premium.id, world.bundle.id])
    assert [s.id for s in other.subscriptions] == world.ids("premium", "bundle", "all", "feed_api")
    assert [sub_id for sub_id, _ in other.ended_subscriptions] == world.ids("premium_ended")
    assert sorted(other.secret_values) == sorted(
        [OTHER_SECRET, OTHER_PRODUCT_SECRET, GLOBAL_SECRET]
    )
    assert EDGE_SECRET not in json.dumps(catalog_to_json(other))


def test_a_gateway_without_apis_gets_no_subscription_not_even_an_all_apis_one():
    two_gateways.build_all()
    services.create_gateway(name="empty", kind=Gateway.Kind.SELF_HOSTED)
    empty = selectors.gateway_catalog("empty")
    assert (empty.apis, empty.products, empty.subscriptions) == ((), (), ())
    assert empty.ended_subscriptions == ()
    assert empty.secret_values == (GLOBAL_SECRET,)  # the All APIs policy applies everywhere
