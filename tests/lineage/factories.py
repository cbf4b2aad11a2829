"""Valid lineage payloads for tests, with the few fields a test wants to change as arguments."""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.api import Ledger
from ledger.entry import Actor


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
