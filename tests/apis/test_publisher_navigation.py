"""Issue 29 item 5 from the server's side: the publisher area's header, its own navigation with
the current section marked, breadcrumbs on every nested page, and the Policies tab."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from apis import services
from apis.models import Gateway

pytestmark = pytest.mark.django_db


class Navigation(HTMLParser):
    """The links of the header's Main nav, the publisher nav and the breadcrumbs of one page."""

    def __init__(self):
        super().__init__()
        self.navs: dict[str, list[dict]] = {}
        self._nav = None
        self._item = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            self._nav = self.navs.setdefault(attrs.get("aria-label", ""), [])
        elif self._nav is not None and tag in ("a", "span") and "class" not in attrs:
            self._item = {
                "href": attrs.get("href"),
                "current": attrs.get("aria-current"),
                "text": "",
            }
            self._nav.append(self._item)

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav = None
        elif tag in ("a", "span"):
            self._item = None

    def handle_data(self, data):
        if self._item is not None:
            self._item["text"] += data.strip()


def navigation(client, url: str) -> dict[str, list[dict]]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = Navigation()
    parser.feed(response.content.decode())
    return parser.navs


@pytest.fixture
def publisher_client(client):
    client.force_login(User.objects.create_user("boss", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows():
    api = services.create_api(
        display_name="Echo", backend_url="ws://127.0.0.1:9/", url_suffix="echo"
    )
    services.create_product(display_name="Starter", apis=[api])
    services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
    services.create_named_value(name="region", value="eu")
    services.create_policy_fragment(name="common", xml="<fragment></fragment>")


NESTED = [
    ("publisher:api-create", {}, "apis", ["APIs", "Add WebSocket API"]),
    ("publisher:api-import", {}, "apis", ["APIs", "Add from AsyncAPI"]),
    ("publisher:api-settings", {"name": "echo"}, "apis", ["APIs", "Echo", "Settings"]),
    ("publisher:api-policy", {"name": "echo"}, "apis", ["APIs", "Echo", "Policies"]),
    ("publisher:api-test", {"name": "echo"}, "apis", ["APIs", "Echo", "Test"]),
    ("publisher:api-asyncapi", {"name": "echo"}, "apis", ["APIs", "Echo", "AsyncAPI"]),
    ("publisher:api-metrics", {"name": "echo"}, "apis", ["APIs", "Echo", "Metrics"]),
    ("publisher:api-logs", {"name": "echo"}, "apis", ["APIs", "Echo", "Logs"]),
    ("publisher:api-live", {"name": "echo"}, "apis", ["APIs", "Echo", "Live"]),
    ("publisher:api-delete", {"name": "echo"}, "apis", ["APIs", "Echo", "Delete"]),
    ("publisher:global-policy", {}, "apis", ["APIs", "All APIs policy"]),
    ("publisher:product-create", {}, "products", ["Products", "Add product"]),
    (
        "publisher:product-edit",
        {"name": "starter"},
        "products",
        ["Products", "Starter", "Settings"],
    ),
    (
        "publisher:product-policy",
        {"name": "starter"},
        "products",
        ["Products", "Starter", "Policies"],
    ),
    (
        "publisher:product-subscriptions",
        {"name": "starter"},
        "products",
        ["Products", "Starter", "Subscriptions"],
    ),
    ("publisher:subscription-create", {}, "subscriptions", ["Subscriptions", "Add subscription"]),
    ("publisher:gateway-create", {}, "gateways", ["Gateways", "Add gateway"]),
    ("publisher:gateway-edit", {"name": "edge"}, "gateways", ["Gateways", "edge"]),
    ("publisher:named-value-create", {}, "named-values", ["Named values", "Add named value"]),
    ("publisher:named-value-edit", {"name": "region"}, "named-values", ["Named values", "region"]),
    (
        "publisher:named-value-delete",
        {"name": "region"},
        "named-values",
        ["Named values", "region", "Delete"],
    ),
    ("publisher:fragment-create", {}, "fragments", ["Fragments", "Add policy fragment"]),
    ("publisher:fragment-edit", {"name": "common"}, "fragments", ["Fragments", "common"]),
]
SECTION_LABELS = {
    "apis": "APIs",
    "products": "Products",
    "subscriptions": "Subscriptions",
    "gateways": "Gateways",
    "named-values": "Named values",
    "fragments": "Fragments",
}


@pytest.mark.parametrize(("name", "kwargs", "section", "trail"), NESTED)
def test_nested_pages_have_breadcrumbs_and_mark_their_section(
    publisher_client, rows, name, kwargs, section, trail
):
    url = reverse(name, kwargs=kwargs)
    navs = navigation(publisher_client, url)
    crumbs = navs["Breadcrumb"]
    assert [c["text"] for c in crumbs] == trail
    # Every step links back except the last, which is this page.
    assert all(c["href"] for c in crumbs[:-1])
    assert crumbs[-1]["href"] is None and crumbs[-1]["current"] == "page"
    assert crumbs[0]["href"] == reverse(
        {
            "apis": "publisher:api-list",
            "products": "publisher:product-list",
            "subscriptions": "publisher:subscription-list",
            "gateways": "publisher:gateway-list",
            "named-values": "publisher:named-value-list",
            "fragments": "publisher:fragment-list",
        }[section]
    )
    for crumb in crumbs[:-1]:
        assert publisher_client.get(crumb["href"]).status_code == 200
    current = [a["text"] for a in navs["Publisher"] if a["current"] == "page"]
    assert current == [SECTION_LABELS[section]]


def test_top_level_pages_mark_their_section_without_breadcrumbs(publisher_client, rows):
    for name, label in [
        ("publisher:index", "Overview"),
        ("publisher:api-list", "APIs"),
        ("publisher:product-list", "Products"),
        ("publisher:subscription-list", "Subscriptions"),
        ("publisher:gateway-list", "Gateways"),
        ("publisher:named-value-list", "Named values"),
        ("publisher:fragment-list", "Fragments"),
    ]:
        navs = navigation(publisher_client, reverse(name))
        assert "Breadcrumb" not in navs, name
        assert [a["text"] for a in navs["Publisher"] if a["current"] == "page"] == [label]


def test_the_header_switches_areas_instead_of_repeating_the_portals_links(publisher_client, rows):
    publisher = navigation(publisher_client, reverse("publisher:api-list"))["Main"]
    assert [(a["text"], a["current"]) for a in publisher] == [
        ("Developer portal", None),
        ("Publisher", "true"),
        ("Admin", None),
    ]
    portal = navigation(publisher_client, reverse("portal:apis"))["Main"]
    texts = [a["text"] for a in portal]
    assert texts[:3] == ["Developer portal", "APIs", "Products"]
    assert texts[-2:] == ["Publisher", "Admin"]
    assert [a["text"] for a in portal if a["current"]] == ["APIs"]


def test_the_policy_tabs_are_called_policies(publisher_client, rows):
    for name, kwargs in [
        ("publisher:api-settings", {"name": "echo"}),
        ("publisher:product-edit", {"name": "starter"}),
    ]:
        html = publisher_client.get(reverse(name, kwargs=kwargs)).content.decode()
        tabs = re.search(r'<nav class="tabs".*?</nav>', html, re.S).group(0)
        assert ">Policies</a>" in tabs and "onHandshake" not in tabs
