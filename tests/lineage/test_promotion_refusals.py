"""Every promotion the gate refuses is on the record: a `promotion.refused` entry, appended by
govledger with the requester as its actor and the structured reasons, in a transaction of its
own; no one can append one directly; other refusals write nothing; rebuilds reproduce the
refused attempts; and a decision's trace shows them in its model's history and still verifies
offline (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from govledger.cli import main
from govledger.registry import full_registry
from ledger.access.roles import Role
from ledger.api import Ledger, local_actor
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PromotionBlockedError
from ledger.lineage import rebuild_projections
from ledger.lineage import tables as t
from ledger.lineage.promotion_reads import promotion_history
from ledger.lineage.trace import trace_with_pack
from ledger.log.canonical import canonical_json
from ledger.log.entry import Actor
from ledger.verification.trace_check import verify_trace
from tests.lineage.factories import (
    ADMIN,
    DATA_SCIENTIST,
    SCORING_SERVICE,
    build_evaluated_chain,
    dataset,
    decision,
    evaluation,
    model,
    policy,
    run,
    sha,
)
from tests.lineage.test_promotion_gate import key_actor

KINDS = full_registry()
PROMOTE = {"model": {"name": "credit", "version": "1"}, "stage": "production"}


@pytest.fixture
def gated(gov: Ledger) -> Ledger:
    """credit@1 registered; four-fifths v1 (one approval required) active."""
    gov.append("dataset.registered", dataset("adult-train"), actor=DATA_SCIENTIST)
    gov.append("dataset.registered", dataset("adult-eval"), actor=DATA_SCIENTIST)
    gov.append("training_run.recorded", run("run-1", ["adult-train"]), actor=DATA_SCIENTIST)
    gov.append("model.registered", model("credit", "1", "run-1"), actor=DATA_SCIENTIST)
    gov.append("policy.published", policy("1", approvals=1), actor=ADMIN)
    return gov


def refuse(gov: Ledger, actor: Actor, request: dict[str, Any] = PROMOTE) -> PromotionBlockedError:
    size = gov.size
    with pytest.raises(PromotionBlockedError) as caught:
        gov.append("model.promoted", request, actor=actor)
    assert caught.value.recorded_seq == size and gov.size == size + 1
    return caught.value


def stage_of(gov: Ledger) -> str:
    with gov.engine.connect() as conn:
        stage: str = conn.execute(select(t.models.c.stage).where(t.models.c.name == "credit")).scalar_one()
    return stage


def test_a_refused_promotion_is_an_entry_naming_the_requester_and_why(gated: Ledger) -> None:
    gov = gated
    officer, second = key_actor(gov, "rui", "approver"), key_actor(gov, "ana", "approver")
    gov.append("evaluation.recorded", evaluation("ev-1", passed=False), actor=ADMIN)
    rejection = {"approval_id": "ap-1", "model": PROMOTE["model"], "decision": "reject", "role": "approver"}
    gov.append("approval.recorded", {**rejection, "evaluation_id": "ev-1"}, actor=second)
    request = {**PROMOTE, "reason": "quarterly release", "approval_ids": []}

    error = refuse(gov, officer, request)

    assert error.recorded_seq is not None
    entry = gov.get(error.recorded_seq)
    assert entry.kind == "promotion.refused" and entry.subject == "model:credit@1"
    assert entry.actor == officer  # the person refused, not a system identity
    data = entry.data
    assert data["model"] == PROMOTE["model"] and data["stage"] == "production"
    assert data["reason"] == "quarterly release" and data["artifact_sha256"] == sha("model-bytes")
    assert data["policy"] == {"name": "four-fifths", "version": "1", "sha256": policy("1")["sha256"]}
    assert data["evaluation"] == {"evaluation_id": "ev-1", "verdict": "blocked"}
    assert data["failed_rules"] == ["impact-ratio-sex"] and data["insufficient_rules"] == []
    assert data["rejected_by"] == ["ap-1"]
    assert data["approvals"] == {"have": 0, "required": 1}
    assert data["message"] == str(error)
    assert data["problems"] == [{k: v for k, v in p.items() if v is not None} for p in error.errors]
    assert data["problems"][0] == {
        "loc": ["rules", "impact-ratio-sex"],
        "msg": "impact-ratio-sex: impact ratio of Female 0.62 vs threshold >= 0.8",
        "type": "fail",
        "group": "Female",
        "value": 0.62,
        "threshold": 0.8,
    }
    assert stage_of(gov) == "registered"  # the promotion itself rolled back


def test_without_an_evaluation_the_refusal_names_the_policy_and_no_counts(gated: Ledger) -> None:
    gov = gated
    officer = key_actor(gov, "rui", "approver")
    data = gov.get(refuse(gov, officer).recorded_seq or 0).data
    assert data["evaluation"] is None and data["approvals"] is None
    assert [p["type"] for p in data["problems"]] == ["missing"]
    assert data["policy"]["sha256"] == policy("1")["sha256"] and data["failed_rules"] == []


def test_a_refusal_whose_messages_are_as_long_as_allowed_is_still_recorded(gated: Ledger) -> None:
    """A rule's message may hold 5000 characters; the 409's messages add to it, the record clips them
    (a refusal that failed its own schema would answer 422 and leave no record)."""
    gov = gated
    long = evaluation("ev-long", passed=False)
    long["rules"][0]["message"] = "m" * 5000
    gov.append("evaluation.recorded", long, actor=ADMIN)
    error = refuse(gov, key_actor(gov, "rui", "approver"))
    data = gov.get(error.recorded_seq or 0).data
    assert len(str(error)) > 5000 and len(data["message"]) == 5000 and data["message"].endswith("…")
    assert len(data["problems"][0]["msg"]) == 5000 and data["failed_rules"] == ["impact-ratio-sex"]


def test_each_refused_attempt_is_an_event_and_the_history_lists_them_with_the_promotion(gated: Ledger) -> None:
    gov = gated
    officer = key_actor(gov, "rui", "approver")
    first = refuse(gov, officer).recorded_seq
    again = refuse(gov, officer).recorded_seq  # the same request retried: a second attempt
    gov.append("evaluation.recorded", evaluation("ev-2"), actor=ADMIN)
    approval = {"approval_id": "ap-2", "model": PROMOTE["model"], "decision": "approve", "role": "approver"}
    gov.append("approval.recorded", {**approval, "evaluation_id": "ev-2"}, actor=officer)
    promoted = gov.append("model.promoted", PROMOTE, actor=officer).seq
    gov.append("model.retired", {"model": PROMOTE["model"], "reason": "replaced"}, actor=officer)

    with gov.engine.connect() as conn:
        page = promotion_history(conn, "credit", "1")
        first_page = promotion_history(conn, "credit", "1", limit=1)
        with pytest.raises(NotFoundError):
            promotion_history(conn, "credit", "9")
    attempts = [(item["seq"], item["outcome"], item["stage"]) for item in page.items]
    assert attempts == [
        (first, "refused", "production"),
        (again, "refused", "production"),
        (promoted, "promoted", "production"),
    ]
    assert all(item["recorded_by"] == {"id": officer.id, "name": officer.name} for item in page.items)
    assert page.next_after is None and first_page.next_after == first


def test_no_one_may_append_a_refusal_directly(
    gated: Ledger, db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gov = gated
    officer = key_actor(gov, "rui", "approver")
    genuine = gov.get(refuse(gov, officer).recorded_seq or 0).data
    size = gov.size
    assert not any(gov.registry.may_append(role, "promotion.refused") for role in Role)
    with pytest.raises(InvalidInputError, match="written by govledger itself"):
        gov.append("promotion.refused", genuine, actor=ADMIN)
    with pytest.raises(InvalidInputError):
        gov.append_many([{"kind": "promotion.refused", "data": genuine}], actor=officer)
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    with pytest.raises(SystemExit) as exited:
        main(["append", "--kind", "promotion.refused", "--data", json.dumps(genuine)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("govledger: error: entry 0: kind 'promotion.refused' is written by")
    assert gov.size == size


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"model": {"name": "credit", "version": "9"}, "stage": "production"}, NotFoundError),  # unknown model
        ({"model": {"name": "credit", "version": "1"}, "stage": "prod"}, InvalidInputError),  # malformed
        ({**PROMOTE, "approval_ids": ["nope"]}, NotFoundError),  # cites an unknown approval
    ],
)
def test_refusals_other_than_the_gates_write_nothing(gated: Ledger, request_: dict[str, Any], error: type) -> None:
    size = gated.size
    with pytest.raises(error) as caught:
        gated.append("model.promoted", request_, actor=ADMIN)
    assert not isinstance(caught.value, PromotionBlockedError)
    assert gated.size == size


def test_a_promotion_to_staging_or_one_already_made_is_not_a_gate_refusal(gov: Ledger) -> None:
    chain = build_evaluated_chain(gov)  # credit@1 promoted to production under four-fifths v1
    size = gov.size
    with pytest.raises(ConflictError) as caught:
        gov.append("model.promoted", PROMOTE, actor=chain.officer)
    assert not isinstance(caught.value, PromotionBlockedError) and gov.size == size


def test_rebuilding_the_projections_reproduces_the_refused_attempts(gated: Ledger) -> None:
    gov = gated
    officer = key_actor(gov, "rui", "approver")
    seqs = [refuse(gov, officer).recorded_seq, refuse(gov, ADMIN).recorded_seq]
    assert rebuild_projections(gov, check=True).matches
    with gov.engine.begin() as conn:  # the projection lost: the log alone brings it back
        conn.execute(delete(t.promotion_refusals))
    assert not rebuild_projections(gov, check=True).matches
    report = rebuild_projections(gov, check=False)
    assert report.tables["lineage_promotion_refusals"] == {"rows_before": 0, "rows_rebuilt": 2, "matches": False}
    assert rebuild_projections(gov, check=True).matches
    with gov.engine.connect() as conn:
        rows = conn.execute(select(t.promotion_refusals.c.seq).order_by(t.promotion_refusals.c.seq)).scalars().all()
        assert conn.execute(select(func.count()).select_from(t.stage_changes)).scalar_one() == 0
    assert rows == seqs


def test_the_trace_of_a_decision_shows_refused_attempts_in_its_models_history(gov: Ledger) -> None:
    chain = build_evaluated_chain(gov)
    # credit@2 has no passing evaluation under the active policy v2: its promotion is refused
    refused = refuse(gov, chain.officer, {"model": {"name": "credit", "version": "2"}, "stage": "production"})
    other = refuse(gov, chain.officer, {"model": {"name": "credit", "version": "2"}, "stage": "production"})
    gov.append("decision.recorded", decision("d-1", chain.facts), actor=SCORING_SERVICE)  # a credit@1 decision
    facts_2 = {**chain.facts, "model": {"name": "credit", "version": "2"}}
    before = refused.recorded_seq
    assert before is not None and other.recorded_seq is not None

    result = trace_with_pack(gov, "d-1")
    assert result["trace"]["refused_promotions"] == []  # credit@1's history has none

    # credit@2 evaluated under v2, approved and promoted; a decision of it: its trace shows both attempts
    passed = evaluation("ev-2b", version="2", artifact="model-bytes-2", policy_version="2")
    gov.append("evaluation.recorded", passed, actor=ADMIN)
    approval = {"approval_id": "ap-2b", "model": facts_2["model"], "decision": "approve", "role": "approver"}
    gov.append("approval.recorded", {**approval, "evaluation_id": "ev-2b"}, actor=chain.officer)
    promoted = gov.append("model.promoted", {"model": facts_2["model"], "stage": "production"}, actor=chain.officer)
    facts_2 = {
        **facts_2,
        "model_artifact_sha256": sha("model-bytes-2"),
        "training_run_id": "run-2",
        "promotion_seq": promoted.seq,
    }
    gov.append("decision.recorded", decision("d-2", facts_2), actor=SCORING_SERVICE)
    result = trace_with_pack(gov, "d-2")
    trace = result["trace"]
    nodes = trace["refused_promotions"]
    assert [n["seq"] for n in nodes] == [before, other.recorded_seq]
    assert nodes[0]["id"] == f"refused_promotion:{before}" and nodes[0]["kind"] == "refused_promotion"
    assert nodes[0]["attributes"]["actor_id"] == chain.officer.id
    assert nodes[0]["attributes"]["stage"] == "production"
    edges = {(e["source"], e["relation"], e["target"]) for e in trace["edges"]}
    assert (f"refused_promotion:{before}", "refused_promotion_of", "model:credit@2") in edges
    assert before in trace["seqs"]
    report = verify_trace(canonical_json(result["pack"]), trace, kinds=KINDS)
    assert before in {e["seq"] for e in report.entries}


def test_a_promotion_refused_through_the_cli_is_recorded_with_the_local_user(
    gated: Ledger, db_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    size = gated.size
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    with pytest.raises(SystemExit) as exited:
        main(["append", "--kind", "model.promoted", "--data", json.dumps(PROMOTE)])
    assert exited.value.code != 0 and "refused" in capsys.readouterr().err
    assert gated.size == size + 1
    entry = gated.get(size)
    assert entry.kind == "promotion.refused" and entry.actor == local_actor()
