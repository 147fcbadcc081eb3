"""The `portico` command against a real server: tables, --json, policies, keys and errors."""

import json

import pytest

from apis import services
from apis.models import Api, Product, Subscription
from tests.cli.conftest import PORTICO

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = (
    "<policies>\n  <inbound>\n    <base />\n"
    '    <ip-filter action="allow"><address>127.0.0.1</address></ip-filter>\n'
    "  </inbound>\n</policies>\n"
)


def test_the_console_script_is_installed():
    assert PORTICO.is_file(), "run `pip install -r requirements-dev.txt` (it installs -e .)"


def test_api_create_then_list_as_a_table_and_as_json(portico):
    services.create_product(display_name="Starter", state=Product.State.PUBLISHED)
    created = portico(
        "api", "create", "--display-name", "Chat", "--backend", "wss://chat.example/ws",
        "--suffix", "chat", "--product", "starter",
    )  # fmt: skip
    assert created.code == 0, created.err
    api = Api.objects.get(name="chat")
    assert [p.name for p in api.products.all()] == ["starter"]

    table = portico("api", "list")
    assert table.code == 0
    header, row = table.out.splitlines()
    assert header.split()[:3] == ["NAME", "DISPLAY_NAME", "URL_SUFFIX"]
    assert row.split()[:3] == ["chat", "Chat", "chat"]

    rows = json.loads(portico("--json", "api", "list").out)
    assert [(r["name"], r["backend_url"]) for r in rows] == [("chat", "wss://chat.example/ws")]


def test_policy_set_from_a_file_and_a_refused_document(portico, tmp_path):
    services.create_api(display_name="Chat", backend_url="wss://c.example/ws", url_suffix="chat")
    (tmp_path / "policy.xml").write_text(POLICY)
    done = portico("policy", "set", "chat", "--file", "policy.xml")
    assert done.code == 0, done.err
    assert Api.objects.get(name="chat").policy_xml == POLICY
    assert portico("policy", "get", "chat").out == POLICY + "\n"
    assert "ip-filter" in portico("policy", "effective", "chat").out

    (tmp_path / "broken.xml").write_text('<policies><inbound><rate-limit calls="x"/></inbound>')
    refused = portico("policy", "set", "chat", "--file", "broken.xml")
    assert refused.code == 1
    assert refused.out == ""
    assert len(refused.err.strip().splitlines()) == 1
    assert refused.err.startswith("portico: error: 400 policy_xml: line 1")
    assert Api.objects.get(name="chat").policy_xml == POLICY  # unchanged


def test_subscription_approve_and_key_regenerate(portico):
    product = services.create_product(display_name="Gated", approval_required=True)
    subscription = services.create_subscription(display_name="Team", product=product)
    assert subscription.state == Subscription.State.SUBMITTED

    listed = portico("subscription", "list", "--state", "submitted")
    assert str(subscription.pk) in listed.out and "submitted" in listed.out
    assert portico("subscription", "approve", str(subscription.pk)).code == 0
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE

    primary, secondary = subscription.primary_key, subscription.secondary_key
    regenerated = portico("key", "regenerate", str(subscription.pk), "--secondary")
    assert regenerated.code == 0 and secondary not in regenerated.out
    subscription.refresh_from_db()
    assert subscription.primary_key == primary and subscription.secondary_key != secondary

    keys = json.loads(portico("--json", "key", "list", str(subscription.pk)).out)
    assert keys == {"primary_key": primary, "secondary_key": subscription.secondary_key}


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (("api", "get", "missing"), {}, 1, "portico: error: 404 "),
        (("api", "list"), {"PORTICO_TOKEN": "pat_wrong"}, 1, "portico: error: 401 "),
        (("api", "list"), {"PORTICO_TOKEN": None}, 3, "portico: error: no token"),
        (("api", "list"), {"PORTICO_URL": "http://127.0.0.1:9"}, 3, "portico: error: cannot reach"),
        (
            ("api", "create", "--display-name", "X", "--backend", "http://x", "--suffix", "x"),
            {},
            1,
            "portico: error: 400 backend_url: ",
        ),
    ],
)
def test_errors_exit_non_zero_with_one_line(portico, args, env, code, message):
    done = portico(*args, **env)
    assert done.code == code
    assert done.err.startswith(message) and done.err.count("\n") == 1, done.err


def test_token_and_url_from_the_config_file(portico, publisher_token, gateway, tmp_path):
    config = tmp_path / ".config" / "portico" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'url = "{gateway.http_url}"\ntoken = "{publisher_token}"\n')
    services.create_gateway(name="edge")
    done = portico("gateway", "list", PORTICO_TOKEN=None, PORTICO_URL=None)
    assert done.code == 0, done.err
    assert [line.split()[0] for line in done.out.splitlines()] == ["NAME", "edge"]


def test_product_delete_refuses_with_subscriptions_unless_forced(portico):
    product = services.create_product(display_name="Starter", state=Product.State.PUBLISHED)
    for n in range(3):
        services.create_subscription(display_name=f"Sub {n}", product=product)

    refused = portico("product", "delete", "starter")
    assert refused.code == 1
    assert refused.err.strip() == (
        "portico: error: 409 product 'starter' has 3 subscriptions; "
        "pass force=true to delete them too (portico product delete starter --force)"
    )
    assert Subscription.objects.filter(product=product).count() == 3

    forced = portico("product", "delete", "starter", "--force")
    assert forced.code == 0, forced.err
    assert not Product.objects.filter(name="starter").exists()
    assert Subscription.objects.count() == 0
