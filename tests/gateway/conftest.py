"""Fixtures for gateway node tests: a self-hosted gateway with an API, and a control plane."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from apis import services
from apis.models import Gateway, Product, Subscription
from tests.support.nodes import start_control_plane, start_node
from tests.support.servers import serve_current_catalog


@dataclass
class Edge:
    gateway: Gateway
    subscription: Subscription
    token: str

    @property
    def key(self) -> str:
        return self.subscription.primary_key


@pytest.fixture
def edge(transactional_db, backend) -> Edge:
    """A self-hosted gateway "edge" serving the Echo API, an active subscription, a node token."""
    backend.reset()
    gateway = services.create_gateway(name="edge", kind=Gateway.Kind.SELF_HOSTED)
    api = services.create_api(
        display_name="Echo",
        backend_url=f"{backend.url}/base",
        url_suffix="echo",
        gateways=[gateway],
    )
    product = services.create_product(
        display_name="Starter", state=Product.State.PUBLISHED, apis=[api]
    )
    subscription = services.create_subscription(display_name="Edge sub", product=product)
    token = services.regenerate_gateway_token(gateway=gateway, which="primary")
    return Edge(gateway=gateway, subscription=subscription, token=token)


@pytest.fixture(scope="module")
def control(django_db_setup, server_logs):
    """The control plane (`run_portal`), shared by the tests of a module."""
    server = start_control_plane(server_logs)
    yield server
    server.stop()


@pytest.fixture
def start_edge_node(edge, tmp_path, server_logs):
    """Start one self-hosted node of "edge" on `control` (its saved configuration in `var_dir`,
    tmp_path unless given; `options` go to start_node); the test waits for it and stops it."""

    def start(control, *, var_dir: Path | None = None, **options):
        return start_node(
            server_logs,
            control_url=control.http_url,
            gateway="edge",
            token=edge.token,
            var_dir=var_dir or tmp_path,
            **options,
        )

    return start


@pytest.fixture
def edge_nodes(control, start_edge_node, tmp_path):
    """Start self-hosted nodes of "edge", one per node id (`env`: extra settings by id), and wait
    until they serve the current catalog; all are stopped after the test."""
    started = []

    def start(*names: str, env: dict[str, dict[str, str]] | None = None):
        nodes = []
        for name in names:
            node = start_edge_node(
                control, var_dir=tmp_path / name, PORTICO_NODE_ID=name, **(env or {}).get(name, {})
            )
            started.append(node)
            nodes.append(node)
        serve_current_catalog(*nodes)
        return nodes

    yield start
    for node in started:
        node.stop()
