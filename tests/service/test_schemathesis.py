"""Property-based calls generated from the OpenAPI schema (schemathesis): no request, however
odd, may produce a 5xx, and every error has the uniform body. Bounded in examples so the suite
stays fast; run as admin, who may call every route. (schemathesis's pytest plugin does not work
with this pytest, so the operations' Hypothesis strategies are driven directly.)"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.lineage.factories import build_chain
from tests.service.conftest import Service

EXAMPLES_PER_OPERATION = 15


def test_no_request_produces_a_server_error(service: Service) -> None:
    build_chain(service.ledger)  # some real objects, so generated ids sometimes hit them
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    headers = service.headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"} and {"code", "message", "errors"} <= set(body["error"]), body

        check()
    assert service.ledger.verify().ok
