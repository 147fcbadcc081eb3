"""The SDK against the real server: an admin's token and PorticoClient on the shared gateway."""

import pytest
from django.contrib.auth.models import User

from apis import services
from portico_client import PorticoClient


@pytest.fixture
def admin_token(transactional_db) -> str:
    user = User.objects.create_superuser("sdk-admin", "admin@example.com", "pw")
    return services.create_access_token(user=user, name="sdk")[1]


@pytest.fixture
def sdk(gateway, admin_token):
    """PorticoClient on the real uvicorn server (both planes), closed after the test."""
    with PorticoClient(gateway.http_url, admin_token) as client:
        yield client
