"""`portico export` -> delete everything or edit -> `portico apply` -> `portico export` is exact."""

import shutil

import pytest
import yaml

from apis import selectors, services
from apis.cli.output import to_yaml
from apis.models import Api, Gateway, Product
from tests.apis.asyncapi_documents import HERE

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


def import_chat(portico, tmp_path) -> None:
    shutil.copy(HERE / "chat-3.0.json", tmp_path / "chat.json")
    done = portico(
        "api", "import", "--asyncapi", "chat.json", "--suffix", "chat", "--server", "production"
    )
    assert done.code == 0, done.err


def test_an_edited_description_is_applied_and_exported_as_written(portico, tmp_path):
    """Issue 30 item 8: apply reports exactly what the next export shows changed."""
    import_chat(portico, tmp_path)
    exported = portico("export").out
    # a publisher edits the API's description (the first place the export says it)
    edited = exported.replace("see everyone's messages", "read the room's history", 1)
    (tmp_path / "edited.yaml").write_text(edited)

    applied = portico("apply", "-f", "edited.yaml")
    assert applied.code == 0, applied.err
    assert applied.out.strip() == "updated api chat-rooms"
    assert "read the room's history" in Api.objects.get(name="chat-rooms").description
    assert portico("export").out == edited
    assert portico("apply", "-f", "edited.yaml").out.strip() == "no changes"


def test_a_document_that_disagrees_with_its_entry_is_refused_not_ignored(portico, tmp_path):
    import_chat(portico, tmp_path)
    before = portico("export").out
    catalog = yaml.safe_load(before)
    document = catalog["apis"][0]["asyncapi"]
    document["info"]["title"] = "Chat"  # the entry still says display_name: Chat Rooms
    document["info"]["description"] = "Another description."
    (tmp_path / "two-names.yaml").write_text(to_yaml(catalog))
    done = portico("apply", "-f", "two-names.yaml")
    assert done.code == 1
    assert "apis[0].asyncapi.info.title: " in done.err and "display_name" in done.err, done.err
    assert "apis[0].asyncapi.info.description: " in done.err, done.err
    assert portico("export").out == before


def test_a_document_alone_names_and_describes_its_api(portico, tmp_path):
    """An entry without display_name/description takes them from its document's info."""
    (tmp_path / "feed.yaml").write_text(
        "apis:\n"
        "- name: feed\n  backend_url: wss://feed.example/\n  url_suffix: feed\n"
        "  asyncapi:\n    asyncapi: 3.0.0\n"
        "    info: {title: Feed, version: '2', description: Prices as they move.}\n"
        "    channels: {prices: {address: /, messages: {tick: {payload: {type: object}}}}}\n"
        "    operations:\n      prices.clientReceives:\n        action: send\n"
        "        channel: {$ref: '#/channels/prices'}\n"
    )
    done = portico("apply", "-f", "feed.yaml")
    assert done.code == 0, done.err
    api = Api.objects.get(name="feed")
    assert (api.display_name, api.description) == ("Feed", "Prices as they move.")
    exported = portico("export").out
    (tmp_path / "exported.yaml").write_text(exported)
    assert portico("apply", "-f", "exported.yaml").out.strip() == "no changes"
    assert portico("export").out == exported
