"""schemathesis against /openapi.json: generated requests find no 5xx and no response
that breaks the documented schema.

Driven through schemathesis' Python API (its pytest plugin does not run on pytest 9 yet):
every operation of the document gets generated cases, sent to the app in-process.
"""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

CASES_PER_OPERATION = 25


def test_the_api_keeps_its_documented_promises(app: Flask, owner: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 20  # every route is in the document (another test holds it)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=CASES_PER_OPERATION,
            derandomize=True,  # the same cases every run: CI must not turn red by chance
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            case.call_and_validate(
                headers=owner, checks=[not_a_server_error, response_schema_conformance]
            )

        exercise()
