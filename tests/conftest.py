"""Shared fixtures: a real backend, real gateway servers, and a catalog that points at them."""

import os
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from apis import services
from apis.models import Api, Gateway, Product, Subscription
from tests.support.backend import BackendServer
from tests.support.dbflush import retry_flush_on_deadlock
from tests.support.servers import ServerProcess

retry_flush_on_deadlock()  # gateway processes may write telemetry while a test flushes


@pytest.fixture(scope="session")
def backend():
    server = BackendServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory):
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def gateway(django_db_setup, server_logs):
    """Portico on uvicorn (the production server), shared by the tests of a session."""
    server = ServerProcess("combined", server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright; skipped, visibly, where it is not installed.

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    is open, which must not outlive the browser tests."""
    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check would refuse them.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def publisher_user() -> User:
    """A superuser "pub": every publisher page and admin action is open to it."""
    return User.objects.create_superuser("pub", password="pw-for-tests")


@pytest.fixture
def publisher(client, publisher_user):
    """Django's test client signed in as `publisher_user`."""
    client.force_login(publisher_user)
    return client


@dataclass
class Catalog:
    gateway: Gateway
    api: Api
    product: Product
    subscription: Subscription

    @property
    def key(self) -> str:
        return self.subscription.primary_key


@pytest.fixture
def catalog(transactional_db, backend) -> Catalog:
    """The Echo API on the built-in gateway, in a published product, with an active subscription."""
    backend.reset()
    builtin = services.ensure_builtin_gateway()
    api = services.create_api(
        display_name="Echo",
        backend_url=f"{backend.url}/base",
        url_suffix="echo",
        gateways=[builtin],
        max_message_bytes=2 * 1024 * 1024,
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    subscription = services.create_subscription(display_name="Test subscription", product=product)
    return Catalog(gateway=builtin, api=api, product=product, subscription=subscription)
