"""`portico api create/update --source`: an event-source API from the command line."""

import json

import pytest

from apis import services
from apis.models import Api

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_create_with_a_broker_and_a_source_then_a_bad_update_says_why(portico):
    created = portico(
        "--json", "api", "create", "--display-name", "Ticks", "--backend",
        "nats://127.0.0.1:4222", "--suffix", "ticks", "--source", '{"subscribe": "ticks.>"}',
    )  # fmt: skip
    assert created.code == 0, created.err
    assert json.loads(created.out)["backend_kind"] == "nats"
    assert Api.objects.get(name="ticks").source == {"subscribe": "ticks.>"}

    refused = portico("api", "update", "ticks", "--source", '{"subscribe": "ticks.>.x"}')
    assert refused.code != 0
    assert "source" in refused.err and "source.subscribe" in refused.err
    not_json = portico("api", "update", "ticks", "--source", "{subscribe")
    assert not_json.code != 0 and "not JSON" in not_json.err


def test_api_create_with_a_broker_password_as_a_secret_named_value_and_a_literal_refused(portico):
    services.create_named_value(name="nats-pass", value="pw-cli-secret-value", secret=True)
    backend = "nats://portico:{{nats-pass}}@127.0.0.1:4222"
    created = portico(
        "--json", "api", "create", "--display-name", "Ticks", "--backend", backend,
        "--suffix", "ticks", "--source", '{"subscribe": "ticks.>"}',
    )  # fmt: skip
    assert created.code == 0, created.err
    assert json.loads(created.out)["backend_url"] == backend
    assert "pw-cli-secret-value" not in created.out
    shown = portico("api", "get", "ticks")
    assert shown.code == 0 and "pw-cli-secret-value" not in shown.out
    refused = portico("api", "update", "ticks", "--backend", "nats://portico:hunter2@h:4222")
    assert refused.code != 0
    assert "backend_url" in refused.err and "secret named value" in refused.err
    assert "hunter2" not in refused.err
    assert Api.objects.get(name="ticks").backend_url == backend
