"""Every endpoint with every role: 401 without a valid key, 403 for a role that may not act.

The table below must name every /v1 route the app serves, so a new endpoint cannot skip the matrix.
"""

from __future__ import annotations

import re

import httpx
import pytest

from govledger.registry import full_registry
from ledger.access.api_keys import split_token
from ledger.access.roles import Role
from ledger.api import local_actor
from ledger.service.principals import PrincipalCache
from tests.service.conftest import ROLES, Service

pytestmark = pytest.mark.anyio

READ = set(ROLES)
VIEW = {"admin", "approver", "auditor"}  # reports are for risk officers and auditors
ISSUE = {"admin", "approver"}  # issuing a report appends report.issued
# (method, path) -> roles that may call it
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/entries/{seq}"): READ,
    ("GET", "/v1/entries"): READ,
    ("GET", "/v1/checkpoints/latest"): READ,
    ("GET", "/v1/proofs/consistency"): READ,
    ("GET", "/v1/proofs/inclusion/{seq}"): READ,
    ("POST", "/v1/datasets"): {"admin", "producer"},
    ("GET", "/v1/datasets"): READ,
    ("GET", "/v1/datasets/{dataset_id}"): READ,
    ("POST", "/v1/runs"): {"admin", "producer"},
    ("GET", "/v1/runs"): READ,
    ("GET", "/v1/runs/{run_id}"): READ,
    ("POST", "/v1/models"): {"admin", "producer"},
    ("GET", "/v1/models"): READ,
    ("GET", "/v1/models/{name}/{version}"): READ,
    ("GET", "/v1/models/{name}/{version}/promotions"): READ,
    ("POST", "/v1/models/{name}/{version}/promotions"): {"admin", "approver"},
    ("POST", "/v1/models/{name}/{version}/retirement"): {"admin", "approver"},
    ("POST", "/v1/approvals"): {"admin", "approver"},
    ("GET", "/v1/approvals"): READ,
    ("GET", "/v1/approvals/{approval_id}"): READ,
    ("POST", "/v1/decisions/{decision_id}/reviews"): {"admin", "approver"},
    ("POST", "/v1/decisions/{decision_id}/appeals"): {"admin", "producer", "approver"},
    ("GET", "/v1/decisions/{decision_id}/appeals"): READ,
    ("GET", "/v1/decisions/{decision_id}/reviews"): READ,
    ("POST", "/v1/decisions"): {"admin", "producer"},
    ("POST", "/v1/decisions/dropped"): {"admin", "producer"},
    ("GET", "/v1/decisions"): READ,
    ("GET", "/v1/decisions/{decision_id}"): READ,
    ("DELETE", "/v1/subjects/{subject_ref}"): {"admin"},  # subject.erased: admin only
    ("GET", "/v1/lineage/{kind}/{object_id}"): READ,
    ("GET", "/v1/models-in-production"): READ,
    ("GET", "/v1/decisions/{decision_id}/trace"): READ,
    ("GET", "/v1/decisions/{decision_id}/trace/pack"): READ,
    ("POST", "/v1/policies"): {"admin", "approver"},
    ("GET", "/v1/policies"): READ,
    ("GET", "/v1/policies/{sha256}"): READ,
    ("POST", "/v1/evaluations"): {"admin", "ci"},
    ("GET", "/v1/evaluations"): READ,
    ("GET", "/v1/evaluations/{evaluation_id}"): READ,
    ("GET", "/v1/evaluation-context"): READ,
    ("GET", "/v1/reports/dossier/{name}/{version}"): VIEW,
    ("POST", "/v1/reports/dossier/{name}/{version}/issue"): ISSUE,
    ("GET", "/v1/reports/decisions/{decision_id}"): VIEW,
    ("POST", "/v1/reports/decisions/{decision_id}/issue"): ISSUE,
    ("GET", "/v1/reports/adverse-action/{decision_id}"): VIEW,
    ("POST", "/v1/reports/adverse-action/{decision_id}/issue"): ISSUE,
    ("GET", "/v1/reports/bias-audit/{name}/{version}"): VIEW,
    ("POST", "/v1/reports/bias-audit/{name}/{version}/issue"): ISSUE,
    ("GET", "/v1/reports/attestation"): VIEW,
    ("GET", "/v1/reports/attestation.{fmt}"): VIEW,
    ("POST", "/v1/reports/attestation/issue"): ISSUE,
    ("GET", "/v1/reports/issued/{pdf_sha256}"): READ,
}


# the kind each write route appends: its roles must be the writers that kind's KindSpec declares
WRITES: dict[tuple[str, str], str] = {
    ("POST", "/v1/datasets"): "dataset.registered",
    ("POST", "/v1/runs"): "training_run.recorded",
    ("POST", "/v1/models"): "model.registered",
    ("POST", "/v1/models/{name}/{version}/promotions"): "model.promoted",
    ("POST", "/v1/models/{name}/{version}/retirement"): "model.retired",
    ("POST", "/v1/approvals"): "approval.recorded",
    ("POST", "/v1/decisions/{decision_id}/reviews"): "decision.reviewed",
    ("POST", "/v1/decisions/{decision_id}/appeals"): "decision.appealed",
    ("POST", "/v1/decisions"): "decision.recorded",
    ("POST", "/v1/decisions/dropped"): "decisions.dropped",
    ("DELETE", "/v1/subjects/{subject_ref}"): "subject.erased",
    ("POST", "/v1/policies"): "policy.published",
    ("POST", "/v1/evaluations"): "evaluation.recorded",
    **{route: "report.issued" for route in MATRIX if route[1].endswith("/issue")},
}


def test_write_routes_admit_exactly_the_roles_the_writers_table_names() -> None:
    registry = full_registry()
    for route, kind in WRITES.items():
        for role in ROLES:
            assert registry.may_append(Role(role), kind) == (role in MATRIX[route]), (route, kind, role)


def served_routes(service: Service) -> set[tuple[str, str]]:
    """Every operation the app publishes in its OpenAPI schema."""
    return {
        (method.upper(), path)
        for path, operations in service.app.openapi()["paths"].items()
        if path.startswith("/v1")
        for method in operations
    }


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_matrix_names_every_route(service: Service) -> None:
    assert served_routes(service) == set(MATRIX)


async def test_every_route_with_every_role(client: httpx.AsyncClient, service: Service) -> None:
    size = service.ledger.size
    issued = 0  # the only writes a request with an empty body can make: issuing the attestation
    for (method, path), allowed in sorted(MATRIX.items()):
        url = concrete(path) + ("?old=0" if "consistency" in path else "")
        for credentials in (None, "Bearer glk_0000000000000000_" + "A" * 43, "Basic abc"):
            headers = {} if credentials is None else {"Authorization": credentials}
            response = await client.request(method, url, json={}, headers=headers)
            assert response.status_code == 401, (method, path, credentials, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
        for role in ROLES:
            response = await client.request(method, url, json={}, headers=service.headers(role))
            if role in allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
                issued += response.status_code == 201 and path.endswith("/attestation/issue")
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert response.json()["error"]["code"] == "forbidden"
    assert issued == 2  # admin and approver
    assert service.ledger.size == size + issued  # nothing else in the matrix wrote anything


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _revoke(service: Service, role: str) -> None:

    parts = split_token(service.tokens[role])
    assert parts is not None
    service.ledger.append("access.key_revoked", {"key_id": parts[0], "reason": "left the company"}, actor=local_actor())


async def test_revoked_key_is_refused_once_the_key_cache_expires(client: httpx.AsyncClient, service: Service) -> None:
    clock = Clock()
    service.app.state.principals = PrincipalCache(service.ledger.engine, ttl_s=1.0, clock=clock)
    assert (await client.get("/v1/datasets", headers=service.headers("auditor"))).status_code == 200
    _revoke(service, "auditor")
    clock.now += 0.5  # within the documented bound, the cached row still admits the key
    assert (await client.get("/v1/datasets", headers=service.headers("auditor"))).status_code == 200
    clock.now += 0.5
    response = await client.get("/v1/datasets", headers=service.headers("auditor"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    clock.now += 5  # and it stays refused (a refused key's row is cached as revoked)
    assert (await client.get("/v1/datasets", headers=service.headers("auditor"))).status_code == 401


async def test_revoked_key_is_refused_at_once_without_a_key_cache(client: httpx.AsyncClient, service: Service) -> None:
    service.app.state.principals = PrincipalCache(service.ledger.engine, ttl_s=0.0)
    assert (await client.get("/v1/datasets", headers=service.headers("auditor"))).status_code == 200
    _revoke(service, "auditor")
    assert (await client.get("/v1/datasets", headers=service.headers("auditor"))).status_code == 401


async def test_a_cached_key_still_needs_its_own_secret(client: httpx.AsyncClient, service: Service) -> None:
    token = service.tokens["admin"]
    assert (await client.get("/v1/datasets", headers=service.headers("admin"))).status_code == 200  # now cached
    key_part, secret = token.rsplit("_", 1)
    forged = f"{key_part}_{'A' if secret[0] != 'A' else 'B'}{secret[1:]}"
    response = await client.get("/v1/datasets", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
