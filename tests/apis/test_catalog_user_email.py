"""context.User.Email reaches gateways only for subscriptions that reach a policy reading it
(privacy: nodes are not sent addresses no policy uses), and not at all otherwise."""

import pytest
from django.contrib.auth.models import User

from apis import selectors, services
from apis.models import Product
from apis.wire import catalog_from_json, catalog_to_json

pytestmark = pytest.mark.django_db

READS_EMAIL = (
    "<policies><inbound><choose>"
    '<when condition="@(context.User.Email.EndsWith(&quot;@x.org&quot;))">'
    '<return-response><set-status code="403" /></return-response></when></choose>'
    "</inbound></policies>"
)


def emails() -> dict[str, str]:
    catalog = selectors.gateway_catalog("managed")
    return {s.name: s.owner_email for s in catalog.subscriptions}


def test_emails_are_sent_only_for_policies_that_read_them():
    ann = User.objects.create_user("ann", "ann@x.org", "pw")
    chat = services.create_api(display_name="Chat", backend_url="ws://a/", url_suffix="chat")
    feed = services.create_api(display_name="Feed", backend_url="ws://b/", url_suffix="feed")
    gold = services.create_product(display_name="Gold", state=Product.State.PUBLISHED, apis=[chat])
    silver = services.create_product(
        display_name="Silver", state=Product.State.PUBLISHED, apis=[feed]
    )
    services.create_subscription(display_name="to-gold", owner=ann, product=gold)
    services.create_subscription(display_name="to-silver", owner=ann, product=silver)
    services.create_subscription(display_name="to-feed", owner=ann, scope="api", api=feed)
    assert set(emails().values()) == {""}
    wire = catalog_to_json(selectors.gateway_catalog("managed"))
    assert "owner_email" not in wire["subscriptions"][0]  # older nodes still read it

    services.update_api(api=chat, policy_xml=READS_EMAIL)
    assert emails() == {"to-gold": "ann@x.org", "to-silver": "", "to-feed": ""}
    services.update_api(api=chat, policy_xml="")
    services.update_product(product=silver, policy_xml=READS_EMAIL)
    assert emails() == {"to-gold": "", "to-silver": "ann@x.org", "to-feed": ""}
    services.set_global_policy(policy_xml=READS_EMAIL)
    assert set(emails().values()) == {"ann@x.org"}
    catalog = selectors.gateway_catalog("managed")
    assert catalog_from_json(catalog_to_json(catalog)) == catalog
