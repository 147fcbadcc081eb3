"""Property-based run of every operation in the OpenAPI schema against the live server: no 5xx.

Schemathesis generates the requests from the served schema (its strategies, driven by
Hypothesis here directly); every answer must be below 500 and, when an error, in the API's
JSON error shape.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from apis import services
from tests.api.conftest import make_objects, make_users

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 12


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
        response = case.call(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        seen.append(response.status_code)
        where = (case.method, case.formatted_path, case.body)
        assert response.status_code < 500, (where, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert body["status"] == response.status_code and body["errors"], where

    run()


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
