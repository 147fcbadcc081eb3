"""`portico named-value`/`fragment` and export/apply of both: a secret is never printed or
exported in clear, and applying an export keeps the stored secret (issue 14 items 3 and 4)."""

import json

import pytest

from apis import selectors, services
from apis.models import Api, NamedValue, PolicyFragment

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "cli-secret-5e1f0c"
FRAGMENT = (
    '<fragment>\n  <check-header name="X-Key" failed-check-httpcode="401" '
    'failed-check-error-message="no">\n    <value>{{api-key}}</value>\n  </check-header>\n'
    "</fragment>"
)
POLICY = '<policies><inbound><include-fragment fragment-id="key-check" /></inbound></policies>'


def test_named_values_and_fragments_from_the_command_line(portico, tmp_path):
    done = portico("named-value", "set", "api-key", "--secret", "--value-file", "-", stdin=SECRET)
    assert done.code == 0, done.err
    assert SECRET not in done.out
    assert NamedValue.objects.get(name="api-key").resolved_value() == SECRET
    assert portico("named-value", "set", "team", "--value", "blue").code == 0

    (tmp_path / "frag.xml").write_text(FRAGMENT)
    done = portico("fragment", "set", "key-check", "-f", "frag.xml", "--description", "key")
    assert done.code == 0, done.err
    services.create_api(
        display_name="Chat", backend_url="wss://chat.example/ws", url_suffix="chat",
        policy_xml=POLICY,
    )  # fmt: skip

    table = portico("named-value", "list")
    assert table.code == 0 and SECRET not in table.out
    rows = {r["name"]: r for r in json.loads(portico("--json", "named-value", "list").out)}
    assert rows["api-key"]["value"] is None and rows["team"]["value"] == "blue"
    assert rows["api-key"]["used_by"] == ["API 'chat'", "policy fragment 'key-check'"]
    assert portico("fragment", "get", "key-check").out.strip() == FRAGMENT

    refused = portico("named-value", "delete", "api-key")
    assert refused.code == 1 and "409" in refused.err and "API 'chat'" in refused.err
    refused = portico("fragment", "delete", "key-check")
    assert refused.code == 1 and "API 'chat'" in refused.err
    bad = portico("named-value", "set", "bad name", "--value", "x")
    assert bad.code == 1 and "name:" in bad.err

    # Replacing the secret without --secret keeps it secret; the catalog carries the new value.
    assert portico("named-value", "set", "api-key", "--value", "rotated").code == 0
    assert NamedValue.objects.get(name="api-key").secret
    (api,) = selectors.gateway_catalog("managed").apis
    assert "<value>rotated</value>" in api.policy_xml
    assert portico("named-value", "delete", "team").code == 0


def test_export_never_carries_a_secret_and_apply_keeps_it(portico, tmp_path):
    services.create_named_value(name="api-key", value=SECRET, secret=True)
    services.create_named_value(name="team", value="blue", description="the team")
    services.create_policy_fragment(name="key-check", xml=FRAGMENT)
    services.create_api(
        display_name="Chat", backend_url="wss://chat.example/ws", url_suffix="chat",
        policy_xml=POLICY,
    )  # fmt: skip
    exported = portico("export")
    assert exported.code == 0, exported.err
    assert SECRET not in exported.out
    assert NamedValue.objects.get(name="api-key").encrypted_value not in exported.out
    data = json.loads(portico("--json", "export").out)
    assert {"name": "api-key", "description": "", "secret": True} in data["named_values"]
    assert data["policy_fragments"][0]["name"] == "key-check"
    (tmp_path / "catalog.yaml").write_text(exported.out)

    revision = selectors.catalog_revision()
    again = portico("apply", "-f", "catalog.yaml")
    assert again.code == 0 and again.out.strip() == "no changes", again.err
    assert selectors.catalog_revision() == revision
    assert NamedValue.objects.get(name="api-key").resolved_value() == SECRET  # not wiped

    # Applied to an empty catalog, the secret has no value to restore: refused, nothing applied.
    Api.objects.all().delete()
    PolicyFragment.objects.all().delete()
    NamedValue.objects.all().delete()
    done = portico("apply", "-f", "catalog.yaml")
    assert done.code == 1 and "named_values[0].value" in done.err
    assert not NamedValue.objects.exists() and not Api.objects.exists()
    # With the secret's value added to the file, everything is created in include order.
    text = exported.out.replace("secret: true", f"secret: true\n  value: {SECRET}")
    (tmp_path / "with-secret.yaml").write_text(text)
    done = portico("apply", "-f", "with-secret.yaml")
    assert done.code == 0, done.err
    assert "created named value api-key" in done.out and "created api chat" in done.out
    assert portico("export").out == exported.out
