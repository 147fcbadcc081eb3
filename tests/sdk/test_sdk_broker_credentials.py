"""The SDK against the real server: an event-source API whose broker password is a secret named
value, and a literal password refused as a `backend_url` problem that never quotes it."""

import pytest

from portico_client import Api, PorticoError

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_api_on_a_broker_with_a_secret_named_value_for_its_password(sdk):
    sdk.named_values.create(name="mqtt-pass", value="pw-sdk-secret-value", secret=True)
    backend = "mqtt://portico:{{mqtt-pass}}@127.0.0.1:1883"
    created = sdk.apis.create(
        display_name="Sensors", backend_url=backend, url_suffix="sensors",
        source={"subscribe": "sensors/#"},
    )  # fmt: skip
    assert isinstance(created, Api) and created.backend_url == backend
    read = sdk.apis.get("sensors")
    assert read.backend_url == backend and "pw-sdk-secret-value" not in str(read.raw)
    assert sdk.named_values.get("mqtt-pass").raw["used_by"] == ["API 'sensors' (broker URL)"]

    with pytest.raises(PorticoError) as refused:
        sdk.apis.update("sensors", backend_url="mqtt://portico:hunter2@127.0.0.1:1883")
    error = refused.value
    assert error.status == 400 and [e["field"] for e in error.errors] == ["backend_url"]
    assert "secret named value" in str(error) and "hunter2" not in str(error.problem)
