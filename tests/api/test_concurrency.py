"""Stale writes are refused: the ETag read with GET must still match at PUT/PATCH time."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/api/v1/apis/chat/", {"description": "one"}),
        ("/api/v1/products/starter/", {"description": "one"}),
        ("/api/v1/gateways/edge/", {"description": "one"}),
        ("/api/v1/apis/chat/policy", {"policy_xml": ""}),
        ("/api/v1/policies/global", {"policy_xml": ""}),
    ],
)
def test_a_second_writer_with_an_old_etag_gets_412(path, change, client_for, objects):
    client = client_for("publisher")
    read = client.get(path)
    etag = read["ETag"]
    assert etag and etag == client.get(path)["ETag"]  # stable while nothing changes

    method = client.put if path.endswith(("policy", "global")) else client.patch
    first = method(path, change, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag  # the write made a new version

    second = method(path, change, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert second.json()["errors"][0]["code"] == "precondition_failed"

    third = method(path, change, format="json", HTTP_IF_MATCH=first["ETag"])
    assert third.status_code == 200


def test_without_if_match_the_write_is_accepted(client_for, objects):
    """The documented choice: no If-Match means last write wins (browsable API, simple scripts)."""
    response = client_for("publisher").patch(
        "/api/v1/apis/chat/", {"description": "blind"}, format="json"
    )
    assert response.status_code == 200
    objects.api.refresh_from_db()
    assert objects.api.description == "blind"
