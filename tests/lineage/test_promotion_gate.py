"""The ledger's promotion gate: policies and evaluations as records, and promotion refused unless
the latest evaluation of the artifact under the active policy passed and enough approvers rely on it."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PromotionBlockedError
from ledger.lineage import rebuild_projections
from ledger.log.entry import Actor
from tests.lineage.factories import DATA_SCIENTIST, IMPACT_RATIO_RULE, dataset, model, run, sha

POLICY_TEXT = f"name: four-fifths\nversion: '1'\n{IMPACT_RATIO_RULE}"
# the same rule as a warning: evaluations are re-judged against the policy they name
WARNING_POLICY_TEXT = POLICY_TEXT.replace("threshold: 0.8\n", "threshold: 0.8\n    severity: warn\n") + "# warn\n"
ADMIN = Actor("local:admin", "admin")


def policy(text: str = POLICY_TEXT, *, version: str = "1", approvals: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "name": "four-fifths",
        "version": version,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "text": text,
        "approvals_required": approvals,
        **extra,
    }


def rule(verdict: str = "pass", *, value: float | None = 0.91, severity: str = "block") -> dict[str, Any]:
    return {
        "rule_id": "impact-ratio-sex",
        "category": "fairness",
        "metric": "impact_ratio",
        "by": ["sex"],
        "comparison": ">=",
        "threshold": 0.8,
        "severity": severity,
        "value": value,
        "verdict": verdict,
        "worst_group": "Female",
        "groups": [
            {"group": "Male", "count": 1200, "value": 0.3, "selected": 360, "ratio": 1.0},
            {"group": "Female", "count": 1000, "value": 0.24, "selected": 240, "ratio": value},
        ],
        "message": f"impact ratio of Female {value} vs threshold >= 0.8",
    }


def evaluation(
    evaluation_id: str, verdict: str = "passed", rules: list[dict[str, Any]] | None = None, *, text: str = POLICY_TEXT
) -> dict[str, Any]:
    text_sha = hashlib.sha256(text.encode()).hexdigest()
    return {
        "evaluation_id": evaluation_id,
        "model": {"name": "credit", "version": "1"},
        "model_artifact_sha256": sha("model-bytes"),
        "dataset": {"dataset_id": "adult-eval", "content_sha256": sha("adult-eval"), "rows": 1000},
        "policy": {"name": "four-fifths", "version": "1", "sha256": text_sha},
        "verdict": verdict,
        "rules": rules or [rule()],
        "libraries": {"fairlearn": "0.15.0"},
    }


def approval(approval_id: str, evaluation_id: str | None, decision: str = "approve") -> dict[str, Any]:
    return {
        "approval_id": approval_id,
        "model": {"name": "credit", "version": "1"},
        "decision": decision,
        "role": "approver",
        "evaluation_id": evaluation_id,
    }


PROMOTE = {"model": {"name": "credit", "version": "1"}, "stage": "production"}


def key_actor(gov: Ledger, name: str, role: str) -> Actor:
    return create_key_actor(gov, name=name, role=role, actor=ADMIN)


@pytest.fixture
def registered(gov: Ledger) -> Ledger:
    gov.append("dataset.registered", dataset("adult-train"), actor=DATA_SCIENTIST)
    gov.append("dataset.registered", dataset("adult-eval"), actor=DATA_SCIENTIST)
    gov.append("training_run.recorded", run("run-1", ["adult-train"]), actor=DATA_SCIENTIST)
    gov.append("model.registered", model("credit", "1", "run-1"), actor=DATA_SCIENTIST)
    return gov


def refused(gov: Ledger) -> PromotionBlockedError:
    size = gov.size
    with pytest.raises(PromotionBlockedError) as caught:
        gov.append("model.promoted", PROMOTE, actor=ADMIN)
    assert gov.size == size + 1  # no promotion: only the refusal, on the record
    assert caught.value.recorded_seq == size and gov.get(size).kind == "promotion.refused"
    return caught.value


def test_without_an_active_policy_promotion_is_not_gated(registered: Ledger) -> None:
    registered.append("model.promoted", PROMOTE, actor=ADMIN)


def test_a_policy_gates_promotion_until_an_evaluation_passes_and_an_approver_relies_on_it(registered: Ledger) -> None:
    gov = registered
    officer = key_actor(gov, "rui", "approver")
    gov.append("policy.published", policy(), actor=officer)
    error = refused(gov)
    assert error.errors[0]["type"] == "missing" and "no evaluation" in str(error)

    gov.append("evaluation.recorded", evaluation("ev-1", "blocked", [rule("fail", value=0.62)]), actor=ADMIN)
    error = refused(gov)
    failing = error.errors[0]
    assert failing["loc"] == ["rules", "impact-ratio-sex"] and failing["group"] == "Female"
    assert failing["value"] == 0.62 and failing["threshold"] == 0.8 and failing["type"] == "fail"
    assert "Female" in str(error) and "0.62" in str(error)

    gov.append("evaluation.recorded", evaluation("ev-2"), actor=ADMIN)
    error = refused(gov)
    assert [e["type"] for e in error.errors] == ["too_few_approvals"]
    assert "0 of 1 required approvals" in str(error)

    gov.append("approval.recorded", approval("ap-1", "ev-2"), actor=officer)
    gov.append("evaluation.recorded", evaluation("ev-3"), actor=ADMIN)  # a new evaluation invalidates ap-1
    error = refused(gov)
    assert "ev-3" in str(error) and "older evaluations no longer count" in str(error)

    gov.append("approval.recorded", approval("ap-2", "ev-3"), actor=officer)
    gov.append("model.promoted", PROMOTE, actor=officer)
    assert rebuild_projections(gov, check=True).matches


def test_warnings_and_insufficient_evidence(registered: Ledger) -> None:
    gov = registered
    gov.append("policy.published", policy(approvals=0), actor=ADMIN)
    gov.append(
        "evaluation.recorded",
        evaluation("ev-1", "insufficient_evidence", [rule("insufficient_evidence", value=None)]),
        actor=ADMIN,
    )
    assert refused(gov).errors[0]["type"] == "insufficient_evidence"
    gov.append("policy.published", policy(WARNING_POLICY_TEXT, version="2", approvals=0), actor=ADMIN)
    warned = evaluation("ev-2", "passed", [rule("fail", value=0.62, severity="warn")], text=WARNING_POLICY_TEXT)
    gov.append("evaluation.recorded", {**warned, "policy": {**warned["policy"], "version": "2"}}, actor=ADMIN)
    gov.append("model.promoted", PROMOTE, actor=ADMIN)


def test_only_approver_keys_count_and_a_rejection_blocks(registered: Ledger) -> None:
    gov = registered
    gov.append("policy.published", policy(approvals=2), actor=ADMIN)
    gov.append("evaluation.recorded", evaluation("ev-1"), actor=ADMIN)
    first = key_actor(gov, "rui", "approver")
    admin_key = key_actor(gov, "ada", "admin")
    gov.append("approval.recorded", approval("ap-1", "ev-1"), actor=first)
    gov.append("approval.recorded", approval("ap-2", "ev-1"), actor=first)  # the same person twice counts once
    gov.append("approval.recorded", approval("ap-3", "ev-1"), actor=admin_key)  # not the approver role
    assert "1 of 2 required approvals" in str(refused(gov))
    second = key_actor(gov, "sam", "approver")
    gov.append("approval.recorded", approval("ap-4", "ev-1", "reject"), actor=second)
    error = refused(gov)
    assert [e["type"] for e in error.errors] == ["rejected", "too_few_approvals"]
    third = key_actor(gov, "lee", "approver")
    gov.append("evaluation.recorded", evaluation("ev-2"), actor=ADMIN)
    gov.append("approval.recorded", approval("ap-5", "ev-2"), actor=first)
    gov.append("approval.recorded", approval("ap-6", "ev-2"), actor=third)
    gov.append("model.promoted", PROMOTE, actor=ADMIN)


def test_staging_is_not_gated(registered: Ledger) -> None:
    registered.append("policy.published", policy(), actor=ADMIN)
    registered.append("model.promoted", {**PROMOTE, "stage": "staging"}, actor=ADMIN)


def test_policy_and_evaluation_records_are_checked(registered: Ledger) -> None:
    gov = registered
    with pytest.raises(InvalidInputError, match="not the SHA-256 of text"):
        gov.append("policy.published", {**policy(), "sha256": sha("other")}, actor=ADMIN)
    gov.append("policy.published", policy(), actor=ADMIN)
    with pytest.raises(ConflictError, match="already published"):
        gov.append("policy.published", policy(), actor=ADMIN)
    with pytest.raises(ConflictError, match="already published"):
        gov.append("policy.published", policy(POLICY_TEXT + "# changed\n"), actor=ADMIN)
    with pytest.raises(InvalidInputError, match="does not follow"):
        gov.append("evaluation.recorded", evaluation("ev-1", "passed", [rule("fail")]), actor=ADMIN)
    with pytest.raises(InvalidInputError, match="needs a value"):
        gov.append("evaluation.recorded", evaluation("ev-1", "blocked", [rule("fail", value=None)]), actor=ADMIN)
    with pytest.raises(InvalidInputError, match="not the artifact registered"):
        gov.append("evaluation.recorded", {**evaluation("ev-1"), "model_artifact_sha256": sha("x")}, actor=ADMIN)
    unknown_policy = {**evaluation("ev-1"), "policy": {"name": "p", "version": "9", "sha256": sha("p")}}
    with pytest.raises(NotFoundError, match="not published"):
        gov.append("evaluation.recorded", unknown_policy, actor=ADMIN)
    wrong_data = {**evaluation("ev-1"), "dataset": {"dataset_id": "adult-eval", "content_sha256": sha("x"), "rows": 1}}
    with pytest.raises(InvalidInputError, match="registered with content hash"):
        gov.append("evaluation.recorded", wrong_data, actor=ADMIN)
    gov.append("evaluation.recorded", evaluation("ev-1"), actor=ADMIN)
    with pytest.raises(ConflictError, match="already recorded"):
        gov.append("evaluation.recorded", evaluation("ev-1"), actor=ADMIN)
    with pytest.raises(NotFoundError, match="evaluation 'ev-9'"):
        gov.append("approval.recorded", approval("ap-1", "ev-9"), actor=ADMIN)
    assert rebuild_projections(gov, check=True).matches
