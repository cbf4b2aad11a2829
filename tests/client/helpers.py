"""Payloads for the client tests (decision requests as a scoring service sends them, evaluations
as `govledger gate --server` records them)."""

from __future__ import annotations

from typing import Any

from tests.lineage.factories import dataset, model, run, sha

__all__ = ["dataset", "decision_request", "evaluation_request", "model", "run", "sha"]


def decision_request(
    decision_id: str, *, subject: str = "applicant-1", version: str = "1", adverse: bool = True
) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "ts_start": "2026-11-23T10:00:00Z",
        "ts_end": "2026-11-23T10:00:00.2Z",
        "model": {"name": "credit", "version": version},
        "subject_ref": subject,
        "input": {"income": 54321, "postcode": "EC1A 1BB"},
        "input_schema_version": "applicant-v3",
        "output": {"decision": "deny" if adverse else "approve", "score": 0.31, "adverse": adverse},
        "not_applicable": {
            item: "not recorded in this test"
            for item in (
                "request_id",
                "trace_id",
                "deployment",
                "reference_database_id",
                "explanation",
                "notice",
                "retention",
            )
        },
    }


def evaluation_request(
    evaluation_id: str, policy_sha256: str, *, ratios: tuple[float, float] = (0.91, 0.88), forged: bool = False
) -> dict[str, Any]:
    """An evaluation of credit@1 (artifact "model-bytes") on dataset "adult-eval" under the shipped
    four-fifths policy, whose sex and race rules get the impact ratios `ratios`, and whose ethnicity
    and age rules are not evaluated (not mapped). The verdicts follow from the ratios, unless
    `forged` (every evaluated rule then claims to pass)."""
    rules = []
    for (attribute, worst), ratio in zip((("sex", "Female"), ("race", "Black")), ratios, strict=True):
        rules.append(
            {
                "rule_id": f"impact-ratio-{attribute}",
                "category": "fairness",
                "metric": "impact_ratio",
                "by": [attribute],
                "comparison": ">=",
                "threshold": 0.8,
                "severity": "block",
                "value": ratio,
                "verdict": "pass" if forged or ratio >= 0.8 else "fail",
                "worst_group": worst,
                "message": f"impact ratio of {worst} {ratio} vs threshold >= 0.8",
            }
        )
    for attribute, severity in (("ethnicity", "block"), ("age", "warn")):  # classes this credit data lacks
        rules.append(
            {
                "rule_id": f"impact-ratio-{attribute}",
                "category": "fairness",
                "metric": "impact_ratio",
                "by": [attribute],
                "comparison": ">=",
                "threshold": 0.8,
                "severity": severity,
                "verdict": "not_evaluated",
                "message": f"impact_ratio by {attribute}: not evaluated: protected class {attribute} is not mapped",
                "details": {"not_mapped": [attribute]},
            }
        )
    blocked = any(r["verdict"] == "fail" for r in rules)
    return {
        "evaluation_id": evaluation_id,
        "model": {"name": "credit", "version": "1"},
        "model_artifact_sha256": sha("model-bytes"),
        "dataset": {"dataset_id": "adult-eval", "content_sha256": sha("adult-eval"), "rows": 1000},
        "policy": {"name": "four-fifths", "version": "2", "sha256": policy_sha256},
        "verdict": "blocked" if blocked else "passed",
        "rules": rules,
        "libraries": {"fairlearn": "0.15.0"},
        "protected_classes": {"mapping": {"sex": "sex", "race": "race"}, "not_mapped": ["ethnicity", "age"]},
    }
