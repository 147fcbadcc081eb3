"""Issue 29 item 2 from the `portico` command against a real server: an invalid backend URL is
refused by `api create`, `api update` and `apply`, saying which field and why, and nothing is
saved."""

import pytest

from apis import services
from apis.models import Api

pytestmark = pytest.mark.django_db(transaction=True)
SPACE_IN_HOST = "The host name cannot contain a space."


def test_api_create_and_update_refuse_an_invalid_backend_url(portico):
    created = portico(
        "api", "create", "--display-name", "Chat", "--backend", "wss://exa mple.com",
        "--suffix", "chat",
    )  # fmt: skip
    assert created.code == 1
    assert created.err == f"portico: error: 400 backend_url: {SPACE_IN_HOST}\n"
    assert not Api.objects.exists()

    services.create_api(display_name="Chat", backend_url="wss://chat.example/", url_suffix="chat")
    updated = portico("api", "update", "chat", "--backend", "wss://chat.example:70000/")
    assert updated.code == 1
    assert updated.err.startswith("portico: error: 400 backend_url: The WebSocket URL's port")
    assert Api.objects.get().backend_url == "wss://chat.example/"


def test_apply_refuses_an_invalid_backend_url_naming_the_api(portico, tmp_path):
    (tmp_path / "catalog.yaml").write_text(
        "apis:\n- name: chat\n  display_name: Chat\n  backend_url: wss://exa mple.com/ws\n"
        "  url_suffix: chat\n"
    )
    done = portico("apply", "-f", "catalog.yaml")
    assert done.code == 1
    assert done.err == f"portico: error: 400 apis[0].backend_url: {SPACE_IN_HOST}\n"
    assert not Api.objects.exists()
