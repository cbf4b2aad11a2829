"""Contract test: requests generated from the OpenAPI description (schemathesis), valid ones and
invalid ones, against every operation, under every check schemathesis has, with three seeds.

What it proves: no request, however odd, gives a 5xx; every answer's status code, content type,
headers and body are the ones the description declares (one error body for every 4xx); invalid
input (by the schema) is refused; a request without the key is refused (401); 405 names the
allowed methods. It runs as admin, who may call every route, over a ledger holding a real chain
(dataset, run, model, decisions), so generated ids sometimes hit real objects.

Checks adapted, and why (neither hides a failure the description could have prevented):

- `positive_data_acceptance` expects a schema-valid request to be accepted. A few rules are not
  expressible in JSON Schema: an order between two parameters (`until` not before `since`, a
  bias audit's period), a size beyond the log's current size (state, not shape), the payload's
  cross-field rules (a derived dataset describes its transformation; a pass or fail carries a
  value; every number in a free-form object is within I-JSON's exact range, as RFC 8785
  canonical JSON requires), a report period's day or time that names no date (month 13), a
  policy's YAML text, a model id of the form name@version only when `kind` is model,
  and strict integers (JSON Schema counts 1.0 as an integer; the payloads refuse it so that
  entries store exactly what was meant). A 422 is accepted only when every finding in its body
  has one of those types (`RULES_BEYOND_JSON_SCHEMA`); any other 422 on valid input fails.
- `negative_data_rejection` counts 413 (body over the size limit) as the refusal it is.
- `use_after_free`, `ensure_resource_availability` and `object_level_authorization` need the
  stateful phase (links between operations); the service's writes are appends, never deletes of
  what a later call reads, and one admin key sees everything, so these find nothing to act on
  here. They run anyway and pass vacuously.

(schemathesis's pytest plugin does not work with this pytest, so each operation's Hypothesis
strategy is driven directly.) Wall time on SQLite: see `EXAMPLES_PER_MODE`.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.lineage.factories import build_chain
from tests.service.conftest import Service

SEEDS = (1, 2, 3)
EXAMPLES_PER_MODE = 2  # per operation, mode (valid, invalid) and seed: 50 operations, ~60 s for three seeds
RULES_BEYOND_JSON_SCHEMA = frozenset(
    {
        "time_range",  # until before since
        "period",  # a bias audit's period is empty
        "out_of_range",  # a tree size beyond the log's current size
        "value_error",  # a payload's cross-field rule
        "int_type",  # 1.0 for an integer (strict payloads)
        "identifier",  # a model's id is name@version (only when kind is model)
        "policy_text",  # the policy's YAML text does not parse or validate
        "json_invalid",  # a number in a free-form object outside I-JSON's exact range (RFC 8785)
        "date",  # a report period's plain day that names no date (0000-00-00), and
        "datetime",  # its time that names no moment (month 63): the parameter is a day or a time,
        # one pattern, so it cannot carry a format; the calendar check is the route's
    }
)


def positive_data_acceptance_beyond_json_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """`positive_data_acceptance`, except for a 422 whose findings are all rules JSON Schema cannot state."""
    if response.status_code == 422:
        findings = response.json()["error"]["errors"]
        if findings and all(f.get("type") in RULES_BEYOND_JSON_SCHEMA for f in findings):
            return None
    return positive_data_acceptance(ctx, response, case)


def negative_data_rejection_or_too_large(ctx: Any, response: Any, case: Any) -> bool | None:
    """`negative_data_rejection`, counting 413 as a rejection: a body over the service's size
    limit is refused before it is parsed (a generated string over `maxLength` can be that big)."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


def all_checks() -> list[Any]:
    load_all_checks()
    adapted = (positive_data_acceptance, negative_data_rejection)
    checks = [c for c in CHECKS.get_all() if c not in adapted]
    assert len(checks) >= 12, [c.__name__ for c in checks]
    return [*checks, positive_data_acceptance_beyond_json_schema, negative_data_rejection_or_too_large]


@pytest.mark.parametrize("seed_value", SEEDS)
def test_generated_requests_pass_every_check(service: Service, seed_value: int, db_url: str) -> None:
    if db_url.startswith("postgresql") and seed_value != SEEDS[0]:
        pytest.skip("PostgreSQL runs one seed (the three seeds run on SQLite), to keep the suite fast")
    build_chain(service.ledger)
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.app)
    headers = service.headers("admin")
    checks = all_checks()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50
    failures: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @seed(seed_value)
            def check(case: Any) -> None:
                case.call_and_validate(checks=checks)

            try:
                check()
            except Unsatisfiable:  # no invalid request exists (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup is an exception group
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
    assert service.ledger.verify().ok
