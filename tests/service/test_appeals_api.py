"""Appeals against a decision (`decision.appealed`): recorded as they arrive, answered by a review
that names them, shown in the decision's trace and proven by its pack; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from govledger.registry import full_registry
from ledger.lineage import rebuild_projections
from ledger.verification.trace_check import verify_trace
from tests.lineage.factories import SCORING_SERVICE, build_chain, decision
from tests.service.conftest import Service

KINDS = full_registry()  # the trace roles of every kind

pytestmark = pytest.mark.anyio

APPEAL = {
    "appeal_id": "apl-1",
    "received_at": "2026-12-01T09:30:00Z",
    "channel": "letter",
    "grounds": "my income was entered wrongly",
    "requests": ["human_review", "correction"],
}


async def post(client: httpx.AsyncClient, service: Service, role: str, url: str, body: Any) -> httpx.Response:
    return await client.post(url, json=body, headers=service.headers(role))


@pytest.fixture
def decided(service: Service) -> None:
    facts = build_chain(service.ledger)
    for decision_id in ("d-1", "d-2"):
        service.ledger.append("decision.recorded", decision(decision_id, facts), actor=SCORING_SERVICE)


@pytest.mark.usefixtures("decided")
async def test_an_appeal_is_recorded_answered_by_a_review_and_traced(
    client: httpx.AsyncClient, service: Service
) -> None:
    recorded = await post(client, service, "producer", "/v1/decisions/d-1/appeals", APPEAL)
    assert recorded.status_code == 201, recorded.text
    review = {
        "outcome": "overridden",
        "override_reason": "income corrected from the payslip",
        "new_decision": "approve",
        "reviewed_at": "2026-12-02T10:00:00Z",
        "appeal_id": "apl-1",
    }
    answered = await post(client, service, "approver", "/v1/decisions/d-1/reviews", review)
    assert answered.status_code == 201, answered.text
    listed = (await client.get("/v1/decisions/d-1/appeals", headers=service.headers("auditor"))).json()
    assert [item["appeal_id"] for item in listed["items"]] == ["apl-1"]

    traced = (await client.get("/v1/decisions/d-1/trace", headers=service.headers("auditor"))).json()
    trace, pack = traced["trace"], traced["pack"]
    (appeal,) = trace["appeals"]
    assert appeal["id"] == "appeal:apl-1" and appeal["seq"] == recorded.json()["seq"]
    assert appeal["attributes"]["requests"] == ["human_review", "correction"]
    assert appeal["attributes"]["recorded_by"]["name"] == "producer-key"
    (reviewed,) = trace["reviews"]
    assert {"source": "appeal:apl-1", "target": "decision:d-1", "relation": "appealed"} in trace["edges"]
    assert {"source": reviewed["id"], "target": "appeal:apl-1", "relation": "answers"} in trace["edges"]
    assert appeal["seq"] in trace["seqs"]
    pack_bytes = (await client.get("/v1/decisions/d-1/trace/pack", headers=service.headers("auditor"))).content
    report = verify_trace(pack_bytes, trace, kinds=KINDS)
    assert appeal["seq"] in {entry["seq"] for entry in report.entries}
    assert appeal["leaf_hash"] == {item["seq"]: item["leaf_hash"] for item in pack["entries"]}[appeal["seq"]]
    assert rebuild_projections(service.ledger, check=True).matches


@pytest.mark.usefixtures("decided")
@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("/v1/decisions/d-9/appeals", APPEAL, 404),  # no such decision
        ("/v1/decisions/d-1/appeals", {**APPEAL, "requests": []}, 422),
        ("/v1/decisions/d-1/appeals", {**APPEAL, "requests": ["correction", "correction"]}, 422),
        ("/v1/decisions/d-1/appeals", {**APPEAL, "received_at": "yesterday"}, 422),
        ("/v1/decisions/d-1/appeals", {key: v for key, v in APPEAL.items() if key != "grounds"}, 422),
    ],
)
async def test_bad_appeals_are_refused_and_write_nothing(
    client: httpx.AsyncClient, service: Service, url: str, body: dict[str, Any], status: int
) -> None:
    size = service.ledger.size
    response = await post(client, service, "producer", url, body)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert service.ledger.size == size


@pytest.mark.usefixtures("decided")
async def test_an_appeal_id_is_used_once_and_a_review_must_answer_an_appeal_of_its_own_decision(
    client: httpx.AsyncClient, service: Service
) -> None:
    assert (await post(client, service, "producer", "/v1/decisions/d-1/appeals", APPEAL)).status_code == 201
    size = service.ledger.size
    again = await post(client, service, "approver", "/v1/decisions/d-2/appeals", APPEAL)
    assert again.status_code == 409
    review = {"outcome": "accepted", "reviewed_at": "2026-12-02T10:00:00Z"}
    wrong = await post(client, service, "approver", "/v1/decisions/d-2/reviews", {**review, "appeal_id": "apl-1"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["errors"][0]["loc"][-1] == "appeal_id"
    unknown = await post(client, service, "approver", "/v1/decisions/d-1/reviews", {**review, "appeal_id": "apl-9"})
    assert unknown.status_code == 404
    assert (await client.get("/v1/decisions/d-9/appeals", headers=service.headers("auditor"))).status_code == 404
    assert service.ledger.size == size
