"""Reading lists back: time ranges on every list, training runs, one approval, a decision's
reviews, and one cursor convention (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ledger.service.deps import MAX_SEQ
from tests.lineage.factories import (
    DATA_SCIENTIST,
    RISK_OFFICER,
    SCORING_SERVICE,
    build_chain,
    dataset,
    decision,
    model,
    run,
)
from tests.service.conftest import Service

pytestmark = pytest.mark.anyio

# every list endpoint with a time range (the time is the entry's ts)
TIMED_LISTS = ("/v1/datasets", "/v1/runs", "/v1/models", "/v1/approvals", "/v1/entries", "/v1/decisions")


@dataclass(frozen=True)
class TwoPhases:
    cut: str  # ts of the first entry of the second phase
    second_seqs: list[int]


def two_phases(service: Service) -> TwoPhases:
    """build_chain (adult-raw, adult-clean, adult-eval, run-1, credit@1, appr-1, promotion), then,
    strictly later: dataset later, run-2 and run-3 (both from adult-raw), credit@2, appr-2."""
    build_chain(service.ledger)
    last = service.ledger.get(service.ledger.size - 1).ts
    time.sleep(0.002)  # the sequencer never goes back in time; now it must go forward
    written = service.ledger.append("dataset.registered", dataset("later"), actor=DATA_SCIENTIST)
    assert written.ts > last
    seqs = [written.seq]
    seqs.append(service.ledger.append("training_run.recorded", run("run-2", ["adult-raw"]), actor=DATA_SCIENTIST).seq)
    seqs.append(service.ledger.append("training_run.recorded", run("run-3", ["adult-raw"]), actor=DATA_SCIENTIST).seq)
    seqs.append(service.ledger.append("model.registered", model("credit", "2", "run-2"), actor=DATA_SCIENTIST).seq)
    approval = {"approval_id": "appr-2", "model": {"name": "credit", "version": "2"}, "decision": "reject"}
    seqs.append(service.ledger.append("approval.recorded", {**approval, "role": "approver"}, actor=RISK_OFFICER).seq)
    return TwoPhases(written.ts, seqs)


async def get(client: httpx.AsyncClient, service: Service, url: str, **params: Any) -> dict[str, Any]:
    response = await client.get(url, params=params, headers=service.headers("auditor"))
    assert response.status_code == 200, (url, params, response.text)
    body: dict[str, Any] = response.json()
    return body


async def ids(client: httpx.AsyncClient, service: Service, url: str, key: str, **params: Any) -> list[Any]:
    return [item[key] for item in (await get(client, service, url, **params))["items"]]


async def test_every_list_filters_on_the_time_the_entry_was_recorded(
    client: httpx.AsyncClient, service: Service
) -> None:
    phases = two_phases(service)
    cut = phases.cut
    assert await ids(client, service, "/v1/datasets", "dataset_id", since=cut) == ["later"]
    assert await ids(client, service, "/v1/datasets", "dataset_id", until=cut) == [
        "adult-raw",
        "adult-clean",
        "adult-eval",
    ]
    assert await ids(client, service, "/v1/models", "version", since=cut) == ["2"]
    assert await ids(client, service, "/v1/models", "version", name="credit", until=cut) == ["1"]
    assert await ids(client, service, "/v1/approvals", "approval_id", since=cut) == ["appr-2"]
    assert await ids(client, service, "/v1/approvals", "approval_id", model_name="credit", until=cut) == ["appr-1"]
    assert await ids(client, service, "/v1/runs", "run_id", since=cut) == ["run-2", "run-3"]
    assert await ids(client, service, "/v1/runs", "run_id", until=cut) == ["run-1"]
    assert await ids(client, service, "/v1/entries", "seq", since=cut) == phases.second_seqs
    assert await ids(client, service, "/v1/entries", "seq", until=cut) == list(range(phases.second_seqs[0]))
    kinds = await ids(client, service, "/v1/entries", "kind", since=cut, kind="training_run.recorded")
    assert kinds == ["training_run.recorded"] * 2
    assert await ids(client, service, "/v1/entries", "seq", since=cut, until=cut) == []  # an empty range

    # the whole range, paged: the cursor and the range combine
    first = await get(client, service, "/v1/entries", since=cut, limit=2)
    assert [e["seq"] for e in first["items"]] == phases.second_seqs[:2]
    rest = await get(client, service, "/v1/entries", since=cut, after=first["next_after"], limit=10)
    assert [e["seq"] for e in rest["items"]] == phases.second_seqs[2:] and rest["next_after"] is None


async def test_times_without_a_fraction_or_with_fewer_digits_mean_the_same_instant(
    client: httpx.AsyncClient, service: Service
) -> None:
    phases = two_phases(service)
    everything = (await get(client, service, "/v1/entries", limit=1000))["items"]
    whole_second = phases.cut[:19] + "Z"  # 2026-...T10:00:00Z is 10:00:00.000000
    expected = [e["seq"] for e in everything if e["ts"] >= phases.cut[:19] + ".000000Z"]
    assert phases.second_seqs[0] in expected
    assert await ids(client, service, "/v1/entries", "seq", since=whole_second) == expected
    datasets = (await get(client, service, "/v1/datasets", since=whole_second))["items"]
    assert "later" in [d["dataset_id"] for d in datasets]
    assert all(d["recorded_at"] >= phases.cut[:19] for d in datasets)
    tenth = phases.cut[:21] + "Z"  # one digit of fraction: .x00000
    expected = [e["seq"] for e in everything if e["ts"] < phases.cut[:21] + "00000Z"]
    assert await ids(client, service, "/v1/entries", "seq", until=tenth) == expected


@pytest.mark.parametrize("url", TIMED_LISTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-11-23 10:00:00"}, "until"),
        ({"since": "2026-11-23T10:00:00+01:00"}, "since"),  # UTC only
        ({"since": "2026-02-30T00:00:00Z"}, "since"),  # not a day of the calendar
        ({"until": "2026-11-23T24:00:00Z"}, "until"),
        ({"since": "2026-11-24T00:00:00Z", "until": "2026-11-23T00:00:00Z"}, "until"),  # backwards
        ({"since": "１２３４-01-01T00:00:00Z"}, "since"),  # full-width digits are not the year 1234
    ],
)
async def test_a_bad_time_is_422_with_the_field_named(
    client: httpx.AsyncClient, service: Service, url: str, params: dict[str, str], field: str
) -> None:
    size = service.ledger.size
    response = await client.get(url, params=params, headers=service.headers("auditor"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["message"]
    assert any(e["loc"][-1] == field for e in error["errors"]), error
    assert service.ledger.size == size


async def test_training_runs_filtered_by_input_dataset_and_paged(client: httpx.AsyncClient, service: Service) -> None:
    two_phases(service)
    assert await ids(client, service, "/v1/runs", "run_id") == ["run-1", "run-2", "run-3"]
    assert await ids(client, service, "/v1/runs", "run_id", input_dataset="adult-raw") == ["run-2", "run-3"]
    assert await ids(client, service, "/v1/runs", "run_id", input_dataset="adult-clean") == ["run-1"]
    assert await ids(client, service, "/v1/runs", "run_id", input_dataset="nowhere") == []
    first = await get(client, service, "/v1/runs", input_dataset="adult-raw", limit=1)
    (item,) = first["items"]
    assert item["run_id"] == "run-2" and first["next_after"] == item["seq"]
    assert item["data"]["input_datasets"] == ["adult-raw"] and item["recorded_by"]["name"] == DATA_SCIENTIST.name
    second = await get(client, service, "/v1/runs", input_dataset="adult-raw", limit=1, after=first["next_after"])
    assert [r["run_id"] for r in second["items"]] == ["run-3"] and second["next_after"] is None
    bad = await client.get("/v1/runs", params={"limit": 0}, headers=service.headers("auditor"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    bad = await client.get("/v1/runs", params={"after": MAX_SEQ + 1}, headers=service.headers("auditor"))
    assert bad.status_code == 422


async def test_one_approval_by_id(client: httpx.AsyncClient, service: Service) -> None:
    two_phases(service)
    got = await get(client, service, "/v1/approvals/appr-2")
    assert (got["approval_id"], got["name"], got["version"], got["decision"]) == ("appr-2", "credit", "2", "reject")
    assert got["recorded_by"]["name"] == RISK_OFFICER.name and got["data"]["model"] == {
        "name": "credit",
        "version": "2",
    }
    entry = await get(client, service, f"/v1/entries/{got['seq']}")
    assert entry["kind"] == "approval.recorded" and entry["data"]["approval_id"] == "appr-2"
    missing = await client.get("/v1/approvals/appr-9", headers=service.headers("auditor"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found" and "appr-9" in missing.json()["error"]["message"]


async def test_a_decisions_reviews_oldest_first_and_paged(client: httpx.AsyncClient, service: Service) -> None:
    facts = build_chain(service.ledger)
    for decision_id in ("d-1", "d-2"):
        service.ledger.append("decision.recorded", decision(decision_id, facts), actor=SCORING_SERVICE)
    reviews = [
        ("d-1", {"outcome": "overridden", "override_reason": "income verified", "reviewed_at": "2026-11-24T09:00:00Z"}),
        ("d-2", {"outcome": "accepted", "reviewed_at": "2026-11-24T09:30:00Z"}),
        ("d-1", {"outcome": "reversed", "override_reason": "appeal upheld", "reviewed_at": "2026-11-25T09:00:00Z"}),
    ]
    seqs = []
    for decision_id, body in reviews:
        response = await client.post(
            f"/v1/decisions/{decision_id}/reviews", json=body, headers=service.headers("approver")
        )
        assert response.status_code == 201, response.text
        seqs.append(response.json()["seq"])

    listed = await get(client, service, "/v1/decisions/d-1/reviews")
    assert [(r["seq"], r["outcome"]) for r in listed["items"]] == [(seqs[0], "overridden"), (seqs[2], "reversed")]
    assert listed["next_after"] is None
    assert listed["items"][0]["data"]["override_reason"] == "income verified"
    assert listed["items"][0]["recorded_by"]["name"] == "approver-key"  # the reviewer
    first = await get(client, service, "/v1/decisions/d-1/reviews", limit=1)
    assert [r["seq"] for r in first["items"]] == [seqs[0]] and first["next_after"] == seqs[0]
    second = await get(client, service, "/v1/decisions/d-1/reviews", limit=1, after=first["next_after"])
    assert [r["seq"] for r in second["items"]] == [seqs[2]] and second["next_after"] is None

    service.ledger.append("decision.recorded", decision("d-3", facts), actor=SCORING_SERVICE)
    assert (await get(client, service, "/v1/decisions/d-3/reviews")) == {"items": [], "next_after": None}
    missing = await client.get("/v1/decisions/d-9/reviews", headers=service.headers("auditor"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_every_list_answers_with_the_documented_cursor(client: httpx.AsyncClient, service: Service) -> None:
    facts = build_chain(service.ledger)
    service.ledger.append("decision.recorded", decision("d-1", facts), actor=SCORING_SERVICE)
    oldest_first = [*TIMED_LISTS, "/v1/decisions/d-1/reviews"]
    for url in oldest_first:
        body = await get(client, service, url, limit=1)
        assert set(body) == {"items", "next_after"}, (url, body)
    assert set(await get(client, service, "/v1/evaluations", limit=1)) == {"items", "next_before"}  # newest first
    assert set(await get(client, service, "/v1/policies")) == {"items", "active"}  # not paged
    description = service.app.openapi()["info"]["description"]
    for word in ("next_after", "next_before", "newest first", "since", "until", "/v1/policies"):
        assert word in description, word
