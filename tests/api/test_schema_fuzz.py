"""Property-based run of every operation in the OpenAPI schema against the live server: no 5xx.

Schemathesis generates the requests from the served schema (its strategies, driven by
Hypothesis here directly); every answer must be below 500, match the schema (status code,
content type, body) and, when an error, be in the API's JSON error shape. OPTIONS is in no
schema (drf-spectacular leaves it out), so a generated run never sends it: every path is also
asked OPTIONS, with objects that exist and ones that do not (issue 30, item 10).

Bounded: EXAMPLES_PER_OPERATION generated requests per operation, each with a 10 s timeout.
"""

import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from apis import services
from tests.api.conftest import make_objects, make_users

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def check_operation(operation, base_url: str, token: str, seen: list[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        seen.append(response.status_code)
        where = (case.method, case.formatted_path, case.body)
        assert response.status_code < 500, (where, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert body["status"] == response.status_code and body["errors"], where
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def options_paths(schema, objects, users) -> list[str]:
    """Every path of the schema, its parameters filled with an object that exists and one that
    does not (DRF's OPTIONS looks the object up for PUT: both branches)."""
    existing = {
        "apis": objects.api.name,
        "gateways": objects.gateway.name,
        "products": objects.product.name,
        "subscriptions": str(objects.own.pk),
        "connections": objects.connection,
        "users": str(users["dev"].pk),
    }
    paths = []
    for template in schema.raw_schema["paths"]:
        collection = template.removeprefix("/api/v1/").split("/", 1)[0]
        for value in (existing.get(collection, "missing"), "999999"):
            paths.append(re.sub(r"\{[^}]+\}", value, template))
    return sorted(set(paths))


def test_no_operation_answers_a_server_error(gateway):
    users = make_users()
    make_objects(users)
    token = services.create_access_token(user=users["admin"], name="fuzz")[1]
    schema = schemathesis.openapi.from_url(f"{gateway.http_url}/api/schema/", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    seen: list[int] = []
    for operation in operations:
        check_operation(operation, gateway.http_url, token, seen)
    assert len(seen) >= len(operations)  # the run really called the server
    assert sum(200 <= status < 300 for status in seen) >= len(operations) // 2, sorted(set(seen))


def test_every_path_answers_options(gateway):
    users = make_users()
    objects = make_objects(users)
    schema = schemathesis.openapi.from_url(f"{gateway.http_url}/api/schema/", timeout=10)
    paths = options_paths(schema, objects, users)
    assert "/api/v1/policies/global" in paths and len(paths) >= 30
    failures = []
    for who in ("admin", "publisher", "dev"):
        token = services.create_access_token(user=users[who], name=f"options-{who}")[1]
        for path in paths:
            response = requests.options(
                f"{gateway.http_url}{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            if response.status_code >= 500 or "json" not in response.headers["Content-Type"]:
                failures.append((who, path, response.status_code, response.text[:200]))
    assert not failures, failures
