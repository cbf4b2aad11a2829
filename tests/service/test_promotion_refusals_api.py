"""A promotion the gate refuses over HTTP: the 409 keeps its shape, and before it is answered a
`promotion.refused` entry names the caller's key and why; requests refused before the gate
(401, 403, 415, 422) write nothing; the model's promotion history lists refused and promoted
attempts (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ledger.api import Ledger
from tests.lineage.factories import ADMIN, DATA_SCIENTIST, dataset, evaluation, model, policy, run
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio

PROMOTIONS = "/v1/models/credit/1/promotions"


def gated(ledger: Ledger) -> None:
    """credit@1 registered, evaluated blocked under the active four-fifths v1 (one approval required)."""
    ledger.append("dataset.registered", dataset("adult-train"), actor=DATA_SCIENTIST)
    ledger.append("dataset.registered", dataset("adult-eval"), actor=DATA_SCIENTIST)
    ledger.append("training_run.recorded", run("run-1", ["adult-train"]), actor=DATA_SCIENTIST)
    ledger.append("model.registered", model("credit", "1", "run-1"), actor=DATA_SCIENTIST)
    ledger.append("policy.published", policy("1", approvals=1), actor=ADMIN)
    ledger.append("evaluation.recorded", evaluation("ev-1", passed=False), actor=ADMIN)


async def promote(client: httpx.AsyncClient, service: Service, role: str | None, body: Any) -> httpx.Response:
    headers = {} if role is None else service.headers(role)
    return await client.post(PROMOTIONS, json=body, headers=headers)


async def test_a_refused_promotion_answers_409_after_recording_who_asked_and_why(
    client: httpx.AsyncClient, service: Service
) -> None:
    gated(service.ledger)
    size = service.ledger.size

    response = await promote(client, service, "approver", {"stage": "production", "reason": "Q4 release"})

    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "errors"}
    assert body["error"]["code"] == "promotion_blocked"
    assert [e["loc"] for e in body["error"]["errors"]] == [["rules", "impact-ratio-sex"], ["approvals"]]
    # on the record by the time the answer arrives
    assert service.ledger.size == size + 1
    entry = service.ledger.get(size)
    assert entry.kind == "promotion.refused" and entry.subject == "model:credit@1"
    assert entry.actor.name == "approver-key" and entry.actor.id.startswith("key:")
    data = entry.data
    assert data["message"] == body["error"]["message"]
    assert data["problems"] == [{k: v for k, v in e.items() if v is not None} for e in body["error"]["errors"]]
    assert data["failed_rules"] == ["impact-ratio-sex"] and data["approvals"] == {"have": 0, "required": 1}
    assert data["evaluation"] == {"evaluation_id": "ev-1", "verdict": "blocked"} and data["reason"] == "Q4 release"

    history = await client.get(PROMOTIONS, headers=service.headers("auditor"))
    assert history.status_code == 200
    [attempt] = history.json()["items"]
    assert (attempt["seq"], attempt["outcome"], attempt["stage"]) == (size, "refused", "production")
    assert attempt["recorded_by"] == {"id": entry.actor.id, "name": "approver-key"}
    assert history.json()["next_after"] is None
    model_now = await client.get("/v1/models/credit/1", headers=service.headers("auditor"))
    assert model_now.json()["stage"] == "registered"


@pytest.mark.parametrize(
    ("role", "body", "headers", "status"),
    [
        (None, {"stage": "production"}, {}, 401),  # no key
        ("producer", {"stage": "production"}, {}, 403),  # a role that may not promote
        ("auditor", {"stage": "production"}, {}, 403),
        ("ci", {"stage": "production"}, {}, 403),
        ("approver", {"stage": "prod"}, {}, 422),  # malformed
        ("approver", {"stage": "production", "extra": 1}, {}, 422),
        ("approver", None, {"content-type": "text/plain"}, 415),
    ],
)
async def test_requests_refused_before_the_gate_write_nothing(
    client: httpx.AsyncClient,
    service: Service,
    role: str | None,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    gated(service.ledger)
    size = service.ledger.size
    sent = {**({} if role is None else service.headers(role)), **headers}
    if body is None:
        response = await client.post(PROMOTIONS, content=b"stage=production", headers=sent)
    else:
        response = await client.post(PROMOTIONS, json=body, headers=sent)
    assert response.status_code == status, response.text
    assert service.ledger.size == size


async def test_the_history_lists_refused_and_promoted_attempts_and_404s_unknown_versions(
    client: httpx.AsyncClient, service: Service
) -> None:
    gated(service.ledger)
    first = (await promote(client, service, "approver", {"stage": "production"})).status_code
    again = (await promote(client, service, "admin", {"stage": "production"})).status_code
    staged = await promote(client, service, "approver", {"stage": "staging"})  # staging is not gated
    assert (first, again, staged.status_code) == (409, 409, 201)

    page = await client.get(f"{PROMOTIONS}?limit=2", headers=service.headers("ci"))
    items = page.json()["items"]
    assert [(a["outcome"], a["recorded_by"]["name"]) for a in items] == [
        ("refused", "approver-key"),
        ("refused", "admin-key"),
    ]
    rest = await client.get(f"{PROMOTIONS}?after={page.json()['next_after']}", headers=service.headers("ci"))
    assert [(a["seq"], a["outcome"], a["stage"]) for a in rest.json()["items"]] == [
        (staged.json()["seq"], "promoted", "staging")
    ]
    missing = await client.get("/v1/models/credit/9/promotions", headers=service.headers("auditor"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    unauthenticated = await client.get(PROMOTIONS)
    assert unauthenticated.status_code == 401
