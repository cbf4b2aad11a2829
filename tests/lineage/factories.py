"""Valid lineage payloads for tests, with the few fields a test wants to change as arguments."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ledger.access.api_keys import create_key_actor
from ledger.api import Ledger
from ledger.log.entry import Actor


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


DATA_SCIENTIST = Actor("key:ds1", "dana (data scientist)")
RISK_OFFICER = Actor("key:ro1", "rui (risk officer)")
SCORING_SERVICE = Actor("key:svc1", "scoring service")


def dataset(dataset_id: str, *, derived_from: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "dataset_id": dataset_id,
        "content_sha256": sha(dataset_id),
        "columns": [{"name": "age", "type": "int"}, {"name": "sex", "type": "category"}, {"name": "y", "type": "int"}],
        "rows": 1000,
        "source_uri": f"s3://bucket/{dataset_id}.csv",
        "licence": "CC-BY-4.0",
        "sensitive_attributes": ["sex"],
    }
    if derived_from:
        value["derived_from"] = derived_from
        value["transformation"] = "dropped rows with missing values"
    value.update(extra)
    return value


def run(run_id: str, inputs: list[str], artifact: str = "model-bytes") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "code_version": "git:abc123",
        "parameters": {"max_depth": 3, "learning_rate": 0.1},
        "environment": {"python": "3.11", "sklearn": "1.5"},
        "input_datasets": inputs,
        "metrics": {"auc": 0.87},
        "artifact_sha256": sha(artifact),
    }


def model(name: str, version: str, run_id: str, artifact: str = "model-bytes") -> dict[str, Any]:
    return {
        "model": {"name": name, "version": version},
        "artifact_sha256": sha(artifact),
        "run_id": run_id,
        "intended_use": "consumer credit pre-screening",
    }


def decision(
    decision_id: str, ledger_facts: dict[str, Any], *, subject: str = "applicant-1", adverse: bool = False
) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "request_id": f"req-{decision_id}",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "ts_start": "2026-11-23T10:00:00Z",
        "ts_end": "2026-11-23T10:00:00.120Z",
        "subject_ref": subject,
        "output": {"decision": "deny" if adverse else "approve", "score": 0.42, "adverse": adverse},
        "retention": {"retention_class": "reg-b", "earliest_purge": "2029-01-01"},
        "not_applicable": {
            "deployment": "single test deployment",
            "input": "no personal input in this test decision",
            "reference_database_id": "no matching against a reference database",
            "explanation": "explanations are tested separately",
            "notice": "notices are sent by another system",
        },
        **ledger_facts,
    }


def build_chain(ledger: Ledger) -> dict[str, Any]:
    """raw -> clean -> run -> model credit@1 (approved by another person, promoted); returns the decision facts."""
    ledger.append("dataset.registered", dataset("adult-raw"), actor=DATA_SCIENTIST)
    ledger.append("dataset.registered", dataset("adult-clean", derived_from=["adult-raw"]), actor=DATA_SCIENTIST)
    ledger.append("dataset.registered", dataset("adult-eval"), actor=DATA_SCIENTIST)
    ledger.append("training_run.recorded", run("run-1", ["adult-clean"]), actor=DATA_SCIENTIST)
    ledger.append("model.registered", model("credit", "1", "run-1"), actor=DATA_SCIENTIST)
    ledger.append(
        "approval.recorded",
        {
            "approval_id": "appr-1",
            "model": {"name": "credit", "version": "1"},
            "decision": "approve",
            "role": "approver",
        },
        actor=RISK_OFFICER,
    )
    promoted = ledger.append(
        "model.promoted",
        {"model": {"name": "credit", "version": "1"}, "stage": "production", "approval_ids": ["appr-1"]},
        actor=RISK_OFFICER,
    )
    return {
        "model": {"name": "credit", "version": "1"},
        "model_artifact_sha256": sha("model-bytes"),
        "training_run_id": "run-1",
        "dataset_ids": ["adult-clean"],
        "promotion_seq": promoted.seq,
    }


# -- policies and evaluations (recorded directly, without the ML stack) -----------------------------

ADMIN = Actor("local:admin", "admin")


def policy_text(version: str) -> str:
    """A four-fifths policy with the one rule `evaluation` reports (every evaluation is re-judged
    against its published policy when it is appended)."""
    return f"name: four-fifths\nversion: '{version}'\n{IMPACT_RATIO_RULE}"


IMPACT_RATIO_RULE = """rules:
  - id: impact-ratio-sex
    metric: impact_ratio
    by: [sex]
    comparison: ">="
    threshold: 0.8
"""


def policy(version: str = "1", *, approvals: int = 0, activate: bool = True) -> dict[str, Any]:
    text = policy_text(version)
    return {
        "name": "four-fifths",
        "version": version,
        "sha256": sha(text),
        "text": text,
        "activate": activate,
        "approvals_required": approvals,
    }


def evaluation(
    evaluation_id: str,
    *,
    version: str = "1",
    artifact: str = "model-bytes",
    policy_version: str = "1",
    passed: bool = True,
) -> dict[str, Any]:
    """An evaluation of credit@`version` (whose artifact is `artifact`) under four-fifths `policy_version`."""
    value = 0.91 if passed else 0.62
    return {
        "evaluation_id": evaluation_id,
        "model": {"name": "credit", "version": version},
        "model_artifact_sha256": sha(artifact),
        "dataset": {"dataset_id": "adult-eval", "content_sha256": sha("adult-eval"), "rows": 1000},
        "policy": {"name": "four-fifths", "version": policy_version, "sha256": sha(policy_text(policy_version))},
        "verdict": "passed" if passed else "blocked",
        "rules": [
            {
                "rule_id": "impact-ratio-sex",
                "category": "fairness",
                "metric": "impact_ratio",
                "by": ["sex"],
                "comparison": ">=",
                "threshold": 0.8,
                "severity": "block",
                "value": value,
                "verdict": "pass" if passed else "fail",
                "worst_group": "Female",
                "message": f"impact ratio of Female {value} vs threshold >= 0.8",
            }
        ],
        "libraries": {"fairlearn": "0.15.0"},
    }


@dataclass(frozen=True)
class EvaluatedChain:
    seq: dict[str, int]  # entry of each step, by label
    facts: dict[str, Any]  # what a decision of credit@1 names
    officer: Actor  # the approver key that approved credit@1


def build_evaluated_chain(ledger: Ledger) -> EvaluatedChain:
    """raw -> clean -> run-1 -> credit@1, and run-2 -> credit@2 (another artifact); four-fifths v1
    (one approval required) published; credit@1 evaluated blocked (ev-1), credit@2 evaluated
    (ev-other), credit@1 evaluated passed (ev-2); an approver key approves credit@1 relying on
    ev-2; credit@1 promoted to production; four-fifths v2 published (active) and credit@1 evaluated
    under it (ev-3); v3 published but not activated."""
    s: dict[str, int] = {}

    def add(label: str, kind: str, data: dict[str, Any], actor: Actor = DATA_SCIENTIST) -> None:
        s[label] = ledger.append(kind, data, actor=actor).seq

    add("raw", "dataset.registered", dataset("adult-raw"))
    add("clean", "dataset.registered", dataset("adult-clean", derived_from=["adult-raw"]))
    add("eval", "dataset.registered", dataset("adult-eval"))
    add("run-1", "training_run.recorded", run("run-1", ["adult-clean"]))
    add("credit@1", "model.registered", model("credit", "1", "run-1"))
    add("run-2", "training_run.recorded", run("run-2", ["adult-clean"], artifact="model-bytes-2"))
    add("credit@2", "model.registered", model("credit", "2", "run-2", artifact="model-bytes-2"))
    officer = create_key_actor(ledger, name="rui", role="approver", actor=ADMIN)
    add("policy-1", "policy.published", policy("1", approvals=1), officer)
    add("ev-1", "evaluation.recorded", evaluation("ev-1", passed=False), ADMIN)
    add("ev-other", "evaluation.recorded", evaluation("ev-other", version="2", artifact="model-bytes-2"), ADMIN)
    add("ev-2", "evaluation.recorded", evaluation("ev-2"), ADMIN)
    approval = {
        "approval_id": "appr-1",
        "model": {"name": "credit", "version": "1"},
        "decision": "approve",
        "role": "approver",
        "evaluation_id": "ev-2",
    }
    add("appr-1", "approval.recorded", approval, officer)
    add("prod-1", "model.promoted", {"model": {"name": "credit", "version": "1"}, "stage": "production"}, officer)
    add("policy-2", "policy.published", policy("2"), officer)
    add("ev-3", "evaluation.recorded", evaluation("ev-3", policy_version="2"), ADMIN)
    add("policy-3", "policy.published", policy("3", activate=False), officer)
    facts = {
        "model": {"name": "credit", "version": "1"},
        "model_artifact_sha256": sha("model-bytes"),
        "training_run_id": "run-1",
        "dataset_ids": ["adult-clean"],
        "promotion_seq": s["prod-1"],
    }
    return EvaluatedChain(s, facts, officer)
