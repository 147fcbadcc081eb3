"""`portico export` -> delete everything -> `portico apply` -> `portico export` is identical."""

import pytest

from apis import selectors, services
from apis.models import Api, Gateway, Product

pytestmark = pytest.mark.django_db(transaction=True)

GLOBAL = '<policies>\n  <inbound>\n    <ip-filter action="forbid"><address>10.9.9.9</address></ip-filter>\n  </inbound>\n</policies>'  # noqa: E501
API_POLICY = '<policies>\n  <inbound>\n    <base />\n    <ip-filter action="allow"><address>10.0.0.1</address></ip-filter>\n  </inbound>\n</policies>'  # noqa: E501


def build_catalog() -> None:
    builtin = services.ensure_builtin_gateway()
    edge = services.create_gateway(name="edge", description="Edge nodes", location_city="Oslo")
    chat = services.create_api(
        display_name="Chat",
        backend_url="wss://chat.example/ws",
        url_suffix="chat",
        gateways=[builtin, edge],
        policy_xml=API_POLICY,
        description="Rooms\nand threads",
    )
    feed = services.create_api(
        display_name="Feed", backend_url="ws://feed.example/", url_suffix="feed/v1",
        gateways=[edge], url_scheme="wss", max_message_bytes=1024,
    )  # fmt: skip
    services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[chat, feed],
        subscriptions_limit=2,
    )  # fmt: skip
    services.create_product(display_name="Gold", approval_required=True, apis=[feed])
    services.set_global_policy(policy_xml=GLOBAL)


def delete_everything() -> None:
    for api in Api.objects.all():
        services.delete_api(api=api)
    for product in Product.objects.all():
        services.delete_product(product=product)
    for gateway in Gateway.objects.exclude(name="managed"):
        services.delete_gateway(gateway=gateway)
    services.set_global_policy(policy_xml="")


def test_export_apply_round_trip_is_identical_and_idempotent(portico, tmp_path):
    build_catalog()
    first = portico("export")
    assert first.code == 0, first.err
    assert "name: chat" in first.out and "policy_xml: |" in first.out  # readable YAML
    (tmp_path / "catalog.yaml").write_text(first.out)

    delete_everything()
    assert not Api.objects.exists() and not Product.objects.exists()

    applied = portico("apply", "-f", "catalog.yaml")
    assert applied.code == 0, applied.err
    assert "created api chat" in applied.out and "created product starter" in applied.out

    second = portico("export")
    assert second.out == first.out

    revision = selectors.catalog_revision()
    again = portico("apply", "-f", "catalog.yaml")
    assert again.code == 0 and again.out.strip() == "no changes"
    assert selectors.catalog_revision() == revision  # nothing was saved


def test_apply_refuses_a_bad_file_and_changes_nothing(portico, tmp_path):
    build_catalog()
    before = portico("export").out
    bad = before.replace("backend_url: wss://chat.example/ws", "backend_url: ftp://chat")
    bad = bad.replace("display_name: Gold", "display_name: Platinum")
    (tmp_path / "bad.yaml").write_text(bad)
    done = portico("apply", "-f", "bad.yaml")
    assert done.code == 1
    assert "backend_url" in done.err and done.err.startswith("portico: error: 400 apis[")
    assert portico("export").out == before  # atomic: the valid change was not applied either
    (tmp_path / "junk.yaml").write_text("apis: [unclosed")
    assert portico("apply", "-f", "junk.yaml").err.startswith("portico: error: junk.yaml")


def test_apply_reports_every_error_on_one_line(portico, tmp_path):
    (tmp_path / "typed.yaml").write_text(
        "apis:\n"
        "- name: chat\n  display_name: Chat\n  backend_url: wss://chat.example/ws\n"
        "  url_suffix: chat\n  max_message_bytes: lots\n"
        "- name: feed\n  display_name: Feed\n  backend_url: ftp://feed\n  url_suffix: feed\n"
    )
    done = portico("apply", "-f", "typed.yaml")
    assert done.code == 1
    assert len(done.err.strip().splitlines()) == 1
    assert done.err.startswith("portico: error: 400 ")
    assert "apis[0].max_message_bytes" in done.err and "apis[1].backend_url" in done.err
    assert not Api.objects.exists()
