"""Schemathesis against the published OpenAPI schema, over real HTTP: whatever it sends,
no 5xx, every status and body as documented, and every problem is problem+json."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from tests.api.conftest import Server

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]


def test_the_service_keeps_its_published_contract(server: Server) -> None:
    # The operations are driven one by one with Hypothesis (schemathesis's pytest
    # plugin does not support pytest 9 yet); a bounded number of examples each.
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"X-API-Key": server.tokens["everything"]}
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the loader could not read
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_contract(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        keeps_contract()
