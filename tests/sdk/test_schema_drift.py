"""The SDK cannot drift from the management API: its operations table against the OpenAPI schema.

The schema is generated in-process (drf-spectacular, as /api/schema/ serves it). Checked both
ways: every operation of the schema has an SDK method, every operation the SDK calls is in the
schema (same method and path, and the query parameters it sends are declared), and the clients
offer no method the table does not name.
"""

import inspect

import pytest
from drf_spectacular.generators import SchemaGenerator

from portico_client import AsyncPorticoClient, PorticoClient
from portico_client.operations import OPERATIONS

METHODS = ("get", "post", "put", "patch", "delete")
RESOURCES = (
    "apis",
    "products",
    "subscriptions",
    "gateways",
    "connections",
    "named_values",
    "certificates",
    "policy_fragments",
    "users",
    "policies",
    "catalog",
)


@pytest.fixture(scope="module")
def schema_operations() -> dict[str, dict]:
    """operationId -> {method, path, query}, for every operation the schema documents."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {}
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
                found[operation["operationId"]] = {
                    "method": method.upper(),
                    "path": path,
                    "query": query,
                }
    assert len(found) > 50, "the schema lost its operations"
    return found


def clients():
    return [PorticoClient("http://sdk.invalid", "t"), AsyncPorticoClient("http://sdk.invalid", "t")]


def resolve(client, dotted: str):
    resource, _, method = dotted.partition(".")
    return getattr(getattr(client, resource, None), method, None)


def test_every_schema_operation_has_an_sdk_method(schema_operations):
    missing = sorted(set(schema_operations) - set(OPERATIONS))
    assert missing == [], f"operations with no SDK method (add them to OPERATIONS): {missing}"


def test_every_sdk_operation_is_in_the_schema_with_its_method_path_and_query(schema_operations):
    problems = []
    for operation_id, declared in OPERATIONS.items():
        actual = schema_operations.get(operation_id)
        if actual is None:
            problems.append(f"{operation_id} ({declared.sdk}): not in the schema")
            continue
        if (declared.method, declared.path) != (actual["method"], actual["path"]):
            problems.append(
                f"{operation_id}: SDK {declared.method} {declared.path}, "
                f"schema {actual['method']} {actual['path']}"
            )
        unknown = sorted(set(declared.query) - actual["query"])
        if unknown:
            problems.append(f"{operation_id}: query parameters not in the schema: {unknown}")
    assert problems == []


@pytest.mark.parametrize("client", clients(), ids=["sync", "async"])
def test_every_table_entry_is_a_method_of_both_clients(client):
    missing = [op.sdk for op in OPERATIONS.values() if not callable(resolve(client, op.sdk))]
    assert missing == []
    if isinstance(client, AsyncPorticoClient):
        # Coroutines, except list(), which returns an async iterator over every page.
        sync_ones = [
            op.sdk
            for op in OPERATIONS.values()
            if not op.sdk.endswith(".list")
            and not inspect.iscoroutinefunction(resolve(client, op.sdk))
        ]
        assert sync_ones == []


@pytest.mark.parametrize("client", clients(), ids=["sync", "async"])
def test_the_clients_offer_no_method_the_table_does_not_name(client):
    named = {op.sdk for op in OPERATIONS.values()}
    offered = {
        f"{resource}.{name}"
        for resource in RESOURCES
        for name, member in inspect.getmembers(getattr(client, resource))
        if callable(member) and not name.startswith("_")
    }
    assert sorted(offered - named) == []
    public = {n for n, v in inspect.getmembers(client) if not n.startswith("_") and callable(v)}
    closer = "aclose" if isinstance(client, AsyncPorticoClient) else "close"
    assert public == {"connect", closer}  # connect() mints a ticket through the table's operation
