"""The sections only the decision trace report has: the chain behind the model as the log stood
when the decision was recorded (the approvals and the evaluations of the exact artifact they
relied on, with their policies and rules, the stage changes, the training run, the datasets back
through `derived_from` with their content hashes, the lineage edges) and the protected
attributes those datasets declare.

Why a module of its own: the adverse-action notice shares the decision's own context
(`reports.decision_context`) but not this provenance, which is the trace report's to show.
"""

from __future__ import annotations

from typing import Any

from reports.decision_facts import NOT_RECORDED, DecisionFacts
from reports.evidence import Evidence

__all__ = ["chain_sections"]


def _gate(facts: DecisionFacts, evidence: Evidence) -> dict[str, Any]:
    key = f"{facts.data['model']['name']}@{facts.data['model']['version']}"
    relied_on = {a.data.get("evaluation_id") for a in facts.approvals} - {None}
    evaluations = []
    for e in facts.evaluations:
        policy = e.data["policy"]
        policy_seq = facts.policies.get(policy["sha256"])
        policy_ref = None
        if policy_seq is not None:
            policy_ref = evidence.cite(policy_seq, f"policy {policy['name']} version {policy['version']} (full text)")
        rules = [
            {
                "rule_id": r["rule_id"],
                "category": r["category"],
                "metric": r["metric"],
                "by": ", ".join(r.get("by", [])) or "overall",
                "comparison": r["comparison"],
                "threshold": r["threshold"],
                "value": r.get("value"),
                "verdict": r["verdict"],
                "severity": r["severity"],
                "worst_group": r.get("worst_group"),
            }
            for r in e.data["rules"]
        ]
        dataset = e.data["dataset"]
        evaluations.append(
            {
                "ref": evidence.cite(e.seq, f"evaluation {e.data['evaluation_id']} of {key} ({e.data['verdict']})"),
                "evaluation_id": e.data["evaluation_id"],
                "verdict": e.data["verdict"],
                "policy": f"{policy['name']} version {policy['version']}",
                "policy_sha256": policy["sha256"],
                "policy_ref": policy_ref,
                "dataset": dataset.get("dataset_id") or NOT_RECORDED,
                "dataset_sha256": dataset["content_sha256"],
                "dataset_rows": dataset["rows"],
                "ts": e.ts,
                "by": e.actor.name,
                "relied_on": e.data["evaluation_id"] in relied_on,
                "rules": rules,
            }
        )
    approvals = [
        {
            "ref": evidence.cite(a.seq, f"approval {a.data['approval_id']} of {key}"),
            "approval_id": a.data["approval_id"],
            "decision": a.data["decision"],
            "role": a.data["role"],
            "approver": a.actor.name,
            "evaluation_id": a.data.get("evaluation_id") or NOT_RECORDED,
            "comment": a.data.get("comment"),
            "ts": a.ts,
        }
        for a in facts.approvals
    ]
    stage_changes = [
        {
            "ref": evidence.cite(node.seq, f"stage change of {key} to {node.attributes['stage']}"),
            "stage": node.attributes["stage"],
            "ts": node.ts,
        }
        for node in facts.stage_changes
    ]
    return {"evaluations": evaluations, "approvals": approvals, "stage_changes": stage_changes}


def _run(facts: DecisionFacts, evidence: Evidence) -> dict[str, Any]:
    if facts.run is None:
        return {"present": False, "run_id": facts.data["training_run_id"]}
    data = facts.run.data
    return {
        "present": True,
        "ref": evidence.cite(facts.run.seq, f"training run {data['run_id']}"),
        "run_id": data["run_id"],
        "code_version": data["code_version"],
        "parameters": [{"name": k, "value": data["parameters"][k]} for k in sorted(data.get("parameters", {}))],
        "environment": ", ".join(f"{k} {v}" for k, v in sorted(data.get("environment", {}).items())) or NOT_RECORDED,
        "input_datasets": ", ".join(data["input_datasets"]),
        "metrics": [{"name": k, "value": data["metrics"][k]} for k in sorted(data.get("metrics", {}))],
        "artifact_sha256": data["artifact_sha256"],
        "started_at": data.get("started_at") or NOT_RECORDED,
        "ended_at": data.get("ended_at") or NOT_RECORDED,
        "recorded_at": facts.run.ts,
        "recorded_by": facts.run.actor.name,
    }


def _datasets(facts: DecisionFacts, evidence: Evidence) -> list[dict[str, Any]]:
    used = set(facts.data["dataset_ids"])
    rows = []
    for _, entry in facts.datasets:
        data = entry.data
        dataset_id = data["dataset_id"]
        role = "training input" if dataset_id in used else "source (derived_from)"
        rows.append(
            {
                "ref": evidence.cite(entry.seq, f"dataset {dataset_id} ({role})"),
                "dataset_id": dataset_id,
                "role": role,
                "content_sha256": data["content_sha256"],
                "rows": data["rows"],
                "licence": data.get("licence") or NOT_RECORDED,
                "source_uri": data["source_uri"],
                "sensitive_attributes": ", ".join(data.get("sensitive_attributes", [])) or "none declared",
                "derived_from": ", ".join(data.get("derived_from", [])) or "none (a source)",
                "transformation": data.get("transformation"),
                "description": data.get("description"),
            }
        )
    return rows


def _chain(facts: DecisionFacts) -> list[str]:
    return [f"{edge.source} {edge.relation} {edge.target}" for edge in facts.trace.lineage.edges]


def _protected(facts: DecisionFacts, explanation: dict[str, Any]) -> dict[str, Any]:
    sensitive = sorted({a for _, e in facts.datasets for a in e.data.get("sensitive_attributes", [])})
    named = [r["code"] for r in explanation["reasons"] if r["code"] in sensitive]
    return {
        "sensitive": ", ".join(sensitive) or "none declared",
        "in_reasons": ", ".join(named) or "none",
        "limitations": facts.model.data.get("limitations"),
    }


def chain_sections(facts: DecisionFacts, evidence: Evidence, explanation: dict[str, Any]) -> dict[str, Any]:
    """The trace report's sections beyond the shared context (cites the entries they use, in
    this order: gate, training run, datasets)."""
    return {
        "gate": _gate(facts, evidence),
        "run": _run(facts, evidence),
        "datasets": _datasets(facts, evidence),
        "chain": _chain(facts),
        "protected": _protected(facts, explanation),
    }
