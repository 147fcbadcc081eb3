"""`portico api import --asyncapi`, `portico api asyncapi`, and the document in export/apply."""

import json
import shutil

import pytest
import yaml

from apis import services
from apis.asyncapi import schema_check
from apis.models import Api
from tests.apis.asyncapi_documents import HERE

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_a_3_0_document_then_print_it_back(portico, tmp_path):
    shutil.copy(HERE / "market-data-3.0.yaml", tmp_path / "market.yaml")
    done = portico("api", "import", "--asyncapi", "market.yaml", "--suffix", "market")
    assert done.code == 0, done.err
    api = Api.objects.get(name="market-data")
    assert (api.display_name, api.backend_url, api.url_suffix) == (
        "Market Data",
        "wss://feed.example.com/marketdata",
        "market",
    )
    assert [m["name"] for m in api.asyncapi_contract["channels"][0]["messages"]] == [
        "subscribe",
        "update",
    ]

    printed = portico("api", "asyncapi", "market-data")
    assert printed.code == 0, printed.err
    document = yaml.safe_load(printed.out)
    assert schema_check.check(document) == "3.0.0"
    assert document["servers"]["wss"]["pathname"] == "/market"
    as_json = json.loads(portico("--json", "api", "asyncapi", "market-data").out)
    assert as_json == document


def test_several_servers_need_a_choice_and_broken_files_name_the_path(portico, tmp_path):
    shutil.copy(HERE / "kraken-2.6.yaml", tmp_path / "kraken.yaml")
    done = portico("api", "import", "--asyncapi", "kraken.yaml", "--suffix", "kraken")
    assert done.code == 1
    assert done.err.startswith("portico: error: 400 server: $.servers: ")
    assert "public (wss://ws.kraken.com)" in done.err and len(done.err.splitlines()) == 1

    chosen = portico(
        "api", "import", "--asyncapi", "kraken.yaml", "--suffix", "kraken", "--server", "public"
    )
    assert chosen.code == 0, chosen.err
    assert Api.objects.get(name="kraken-websockets-api").backend_url == "wss://ws.kraken.com"

    (tmp_path / "broken.yaml").write_text(
        "asyncapi: 3.0.0\ninfo:\n  version: '1'\noperations:\n  o:\n    action: publish\n"
        "    channel: {$ref: '#/channels/c'}\n"
    )
    broken = portico("api", "import", "--asyncapi", "broken.yaml", "--suffix", "b")
    assert broken.code == 1
    assert "document: $.info: 'title' is a required property" in broken.err
    assert "document: $.operations.o.action: 'publish' is not one of" in broken.err


def test_export_and_apply_carry_the_document(portico, tmp_path):
    shutil.copy(HERE / "chat-3.0.json", tmp_path / "chat.json")
    done = portico(
        "api", "import", "--asyncapi", "chat.json", "--suffix", "chat", "--server", "production"
    )
    assert done.code == 0, done.err
    services.create_api(display_name="Plain", backend_url="ws://p.example/", url_suffix="plain")
    first = portico("export")
    assert first.code == 0, first.err
    catalog = yaml.safe_load(first.out)
    entries = {a["name"]: a for a in catalog["apis"]}
    assert "asyncapi" not in entries["plain"]  # no contract, no document
    carried = entries["chat-rooms"]["asyncapi"]
    assert "servers" not in carried and schema_check.check(carried) == "3.0.0"
    contract = Api.objects.get(name="chat-rooms").asyncapi_contract
    (tmp_path / "catalog.yaml").write_text(first.out)

    for api in Api.objects.all():
        services.delete_api(api=api)
    applied = portico("apply", "-f", "catalog.yaml")
    assert applied.code == 0, applied.err
    assert Api.objects.get(name="chat-rooms").asyncapi_contract == contract
    assert portico("export").out == first.out
    assert portico("apply", "-f", "catalog.yaml").out.strip() == "no changes"

    broken = first.out.replace("action: receive", "action: publish", 1)
    (tmp_path / "broken.yaml").write_text(broken)
    refused = portico("apply", "-f", "broken.yaml")
    assert refused.code == 1
    assert "apis[0].asyncapi: $.operations" in refused.err, refused.err


def test_apply_refuses_an_asyncapi_entry_that_is_no_document(portico, tmp_path):
    services.create_api(display_name="Plain", backend_url="ws://p.example/", url_suffix="plain")
    (tmp_path / "odd.yaml").write_text("apis:\n- name: plain\n  asyncapi: 42\n")
    done = portico("apply", "-f", "odd.yaml")
    assert done.code == 1
    assert "apis[0].asyncapi: $: An AsyncAPI document is a mapping" in done.err, done.err
    assert Api.objects.get(name="plain").asyncapi_contract == {}


def test_reimporting_an_apis_own_export_keeps_its_backend(portico, tmp_path):
    """Issue 30 item 8: the export's servers are the gateway, never a backend."""
    shutil.copy(HERE / "chat-3.0.json", tmp_path / "chat.json")
    done = portico(
        "api", "import", "--asyncapi", "chat.json", "--suffix", "chat", "--server", "production"
    )
    assert done.code == 0, done.err
    own = portico("api", "asyncapi", "chat-rooms")
    assert own.code == 0, own.err
    assert len(yaml.safe_load(own.out)["servers"]) == 2  # the gateway's ws and wss
    edited = own.out.replace("see everyone's messages", "read the room's history")
    (tmp_path / "own.yaml").write_text(edited)

    again = portico("api", "import", "--asyncapi", "own.yaml")
    assert again.code == 0, again.err
    api = Api.objects.get(name="chat-rooms")
    assert api.backend_url == "wss://chat.example.com/v2"
    assert "read the room's history" in api.description
    assert portico("api", "asyncapi", "chat-rooms").out == edited

    refused = portico("api", "import", "--asyncapi", "own.yaml", "--server", "wss")
    assert refused.code == 1
    assert refused.err.startswith("portico: error: 400 server: $.servers.wss: "), refused.err
    assert "Portico gateway" in refused.err
    assert Api.objects.get(name="chat-rooms").backend_url == "wss://chat.example.com/v2"

    copy = ("api", "import", "--asyncapi", "own.yaml", "--name", "copy", "--suffix", "copy")
    new = portico(*copy)
    assert new.code == 1
    assert new.err.startswith("portico: error: 400 backend_url: $.servers: "), new.err
    assert "Portico gateway" in new.err and not Api.objects.filter(name="copy").exists()
    created = portico(*copy, "--backend", "ws://copy.example/")
    assert created.code == 0, created.err
    assert Api.objects.get(name="copy").backend_url == "ws://copy.example/"
