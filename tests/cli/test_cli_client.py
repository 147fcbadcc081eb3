"""The CLI's client is the SDK's, plus `call()` by path for commands not yet on the resources."""

import pytest

from apis import services
from apis.cli.client import Client, CliError
from portico_client import PorticoClient, PorticoError

pytestmark = pytest.mark.django_db(transaction=True)


def test_call_get_and_list_by_path_share_the_sdk_transport(gateway, publisher_token):
    for n in range(3):
        services.create_gateway(name=f"edge-{n}")
    with Client(gateway.http_url, publisher_token) as client:
        assert isinstance(client, PorticoClient)
        names = [g["name"] for g in client.list("gateways/", ordering="name")]
        assert [n for n in names if n.startswith("edge-")] == ["edge-0", "edge-1", "edge-2"]
        one = client.call("GET", "gateways/edge-1/")
        assert one.data["name"] == "edge-1" and one.etag
        assert client.get("gateways/edge-2/")["name"] == "edge-2"
        with pytest.raises(PorticoError) as missing:
            client.call("GET", "gateways/nope/")
    assert missing.value.status == 404 and CliError.from_sdk(missing.value).exit_code == 1


def test_an_unreachable_server_exits_3_and_a_bad_url_is_refused():
    with Client("http://127.0.0.1:9", "t") as client, pytest.raises(PorticoError) as error:
        client.call("GET", "apis/")
    assert CliError.from_sdk(error.value).exit_code == 3
    with pytest.raises(CliError) as bad:
        Client("ftp://portico.example", "t")
    assert bad.value.exit_code == 3
