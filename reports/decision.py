"""Decision trace report: one automated decision and everything behind it, each statement citing
the ledger entry that proves it (REGULATORY.md "Per-decision trace report").

The decision record (times, request and trace ids, model version, input commitment, output,
principal reasons, explanation metadata, deployment, notice, retention), its human reviews, the
role the AI played in it (EU AI Act Art. 86), and the chain behind it as the log stood when it
was recorded: the promotion that put the model in production, the approvals and the evaluations
of the exact artifact they relied on, the training run, and the datasets back through
`derived_from` with their content hashes. The clear input is never read or printed: only its
commitment, and whether the subject's key still exists (an erased subject's input is unreadable).

`reports.decision_facts` loads what both this report and the adverse-action notice stand on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.api import Ledger
from reports.checklist import ChecklistItem
from reports.decision_facts import NOT_RECORDED, DecisionFacts, load_decision, na, na_reason, review_rows
from reports.document import Content
from reports.evidence import Evidence

__all__ = ["CHECKLIST", "DecisionFacts", "build_decision", "decision_context", "load_decision"]


def _duration_ms(start: str, end: str) -> float:
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return delta.total_seconds() * 1000.0


def _input(facts: DecisionFacts, evidence: Evidence) -> dict[str, Any]:
    data = facts.data
    erasure = None
    if facts.erasure is not None:
        erasure = {
            "ref": evidence.cite(facts.erasure.seq, f"erasure of subject {data['subject_ref']}"),
            "ts": facts.erasure.ts,
            "reason": facts.erasure.data.get("reason"),
            "legal_basis": facts.erasure.data.get("legal_basis"),
        }
    sealed = data.get("input")
    return {
        "present": sealed is not None,
        "na": None if sealed is not None else na(data, "input"),
        "commitment": None if sealed is None else sealed["commitment"],
        "schema_version": None if sealed is None else sealed["schema_version"],
        "erasure": erasure,
    }


def _explanation(data: dict[str, Any]) -> dict[str, Any]:
    explanation = data.get("explanation")
    if explanation is None:
        reason = na_reason(data, "explanation")
        return {"present": False, "na": na(data, "explanation"), "reasons": [], "no_reasons_why": reason}
    reasons = [
        {"rank": i, "code": r["code"], "text": r["text"], "contribution": r.get("contribution")}
        for i, r in enumerate(explanation.get("reason_codes", []), start=1)
    ]
    why: str | None = None
    if not reasons:
        why = (
            "the explanation recorded no factor that lowered the score, so it names no principal reason"
            if data["output"]["adverse"]
            else "the decision was not adverse: no principal reasons are owed"
        )
    return {
        "present": True,
        "na": None,
        "explainer": explanation["explainer"],
        "explainer_version": explanation["explainer_version"],
        "baseline_sha256": explanation.get("baseline_sha256"),
        "shap_ref": explanation.get("shap_ref"),
        "additivity_ok": explanation.get("additivity_ok"),
        "group_map_version": explanation.get("group_map_version"),
        "reasons": reasons,
        "no_reasons_why": why,
    }


def _final_outcome(facts: DecisionFacts) -> dict[str, Any]:
    output = facts.data["output"]
    review = facts.final_review()
    changed = review is not None and review.data["outcome"] in ("overridden", "reversed")
    decision = output["decision"]
    if review is not None and changed:
        decision = review.data.get("new_decision") or decision
    return {
        "decision": decision,
        "changed": changed,
        "review_outcome": None if review is None else review.data["outcome"],
        "review_ref": None if review is None else f"#{review.seq}",
    }


def _ai_role(facts: DecisionFacts, reviews: list[dict[str, Any]], explanation: dict[str, Any]) -> dict[str, Any]:
    """The role of the AI in the decision and its main elements, in sentences (AIA Art. 86)."""
    data, model = facts.data, facts.model.data
    key = f"{data['model']['name']}@{data['model']['version']}"
    output = data["output"]
    score = "" if output.get("score") is None else f", with a score of {float(output['score']):.4f} (range 0 to 1)"
    sentences = [
        f"The outcome “{output['decision']}” was produced by the automated model {key}{score}."
        + (f" The model is documented as: {model['description']}" if model.get("description") else "")
    ]
    if not reviews:
        sentences.append(
            "No human review of this decision is recorded as of this report: the outcome is the model's output "
            "alone (a decision based solely on automated processing)."
        )
    for review in reviews:
        change = f", new decision “{review['new_decision']}”" if review["new_decision"] else ""
        reason = f"; reason: {review['override_reason']}" if review["override_reason"] else ""
        sentences.append(
            f"A person ({review['reviewer']}) reviewed the decision on {review['reviewed_at']}: "
            f"{review['outcome']}{change}{reason}."
        )
    if explanation["reasons"]:
        listed = "; ".join(f"{r['text']} ({r['code']})" for r in explanation["reasons"])
        sentences.append(f"The main elements of the decision, most important first: {listed}.")
    else:
        sentences.append(f"No principal reasons are recorded: {explanation['no_reasons_why']}.")
    if model.get("intended_use"):
        sentences.append(f"Documented intended use of the model: {model['intended_use']}")
    if model.get("out_of_scope_uses"):
        sentences.append(f"Documented out-of-scope uses: {model['out_of_scope_uses']}")
    return {"sentences": sentences}


def _deployment(data: dict[str, Any]) -> dict[str, Any]:
    deployment = data.get("deployment")
    if deployment is None:
        return {"present": False, "na": na(data, "deployment"), "fields": []}
    labels = (
        ("deployer", "Deployer"),
        ("environment", "Environment"),
        ("code_digest", "Code or container digest"),
        ("feature_pipeline_version", "Feature-pipeline version"),
        ("threshold_version", "Threshold or cutoff version"),
    )
    fields = [{"label": label, "value": deployment.get(name) or NOT_RECORDED} for name, label in labels]
    return {"present": True, "na": None, "fields": fields}


def _model(facts: DecisionFacts, evidence: Evidence) -> dict[str, Any]:
    data, model = facts.data, facts.model.data
    key = f"{data['model']['name']}@{data['model']['version']}"
    node = next(n for n in facts.trace.lineage.nodes if n.kind == "model")
    documentation = [
        (label, model.get(name) or NOT_RECORDED)
        for name, label in (
            ("description", "Description"),
            ("intended_use", "Intended use"),
            ("out_of_scope_uses", "Out-of-scope uses"),
            ("owner", "Owner"),
            ("risk_tier", "Risk tier"),
            ("limitations", "Limitations"),
            ("monitoring_plan", "Monitoring plan"),
        )
    ]
    promotion = None
    if facts.promotion is not None:
        p = facts.promotion
        promotion = {
            "ref": evidence.cite(p.seq, f"promotion of {key} that put it in production"),
            "stage": p.data.get("stage"),
            "ts": p.ts,
            "by": p.actor.name,
            "reason": p.data.get("reason"),
            "approval_ids": p.data.get("approval_ids", []),
        }
    return {
        "key": key,
        "ref": evidence.cite(facts.model.seq, f"registration of model {key}"),
        "artifact_sha256": data["model_artifact_sha256"],
        "registered_at": facts.model.ts,
        "registered_by": facts.model.actor.name,
        "stage_when_decided": node.attributes.get("stage"),
        "documentation": [{"label": label, "value": value} for label, value in documentation],
        "promotion": promotion,
        "promotion_seq": data["promotion_seq"],
    }


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


def decision_context(ledger: Ledger, evidence: Evidence, facts: DecisionFacts) -> dict[str, Any]:
    """The context shared by the trace report and the notice (cites the entries it uses)."""
    data = facts.data
    ref = evidence.cite(facts.entry.seq, f"decision record {facts.decision_id}")
    explanation = _explanation(data)
    reviews = review_rows(facts, evidence)
    output = data["output"]
    return {
        "decision": {
            "decision_id": facts.decision_id,
            "ref": ref,
            "seq": facts.entry.seq,
            "recorded_at": facts.entry.ts,
            "recorded_by": facts.entry.actor.name,
            "leaf_hash": facts.entry.leaf_hash.hex(),
            "prev_hash": facts.entry.prev,
            "ts_start": data["ts_start"],
            "ts_end": data["ts_end"],
            "duration_ms": _duration_ms(data["ts_start"], data["ts_end"]),
            "request_id": data.get("request_id"),
            "request_id_na": None if data.get("request_id") else na(data, "request_id"),
            "trace_id": data.get("trace_id"),
            "trace_id_na": None if data.get("trace_id") else na(data, "trace_id"),
            "subject_ref": data["subject_ref"],
            "reference_database_id": data.get("reference_database_id"),
            "reference_database_na": None if data.get("reference_database_id") else na(data, "reference_database_id"),
            "model_key": f"{data['model']['name']}@{data['model']['version']}",
            "artifact_sha256": data["model_artifact_sha256"],
            "training_run_id": data["training_run_id"],
            "dataset_ids": ", ".join(data["dataset_ids"]),
            "promotion_seq": data["promotion_seq"],
        },
        "output": {
            "decision": output["decision"],
            "score": output.get("score"),
            "adverse": output["adverse"],
        },
        "final": _final_outcome(facts),
        "input": _input(facts, evidence),
        "explanation": explanation,
        "reviews": reviews,
        "notice": data.get("notice"),
        "notice_na": None if data.get("notice") else na(data, "notice"),
        "retention": data.get("retention"),
        "retention_na": None if data.get("retention") else na(data, "retention"),
        "deployment": _deployment(data),
        "ai_role": _ai_role(facts, reviews, explanation),
        "model": _model(facts, evidence),
    }


def build_decision(ledger: Ledger, evidence: Evidence, *, decision_id: str) -> Content:
    facts = load_decision(ledger, evidence, decision_id)
    context = decision_context(ledger, evidence, facts)
    context.update(
        {
            "gate": _gate(facts, evidence),
            "run": _run(facts, evidence),
            "datasets": _datasets(facts, evidence),
            "chain": _chain(facts),
            "protected": _protected(facts, context["explanation"]),
        }
    )
    return Content(
        kind="decision",
        kind_label="Decision trace report",
        title=f"Decision trace: {decision_id}",
        subject=f"decision {decision_id}",
        template="decision.html.j2",
        context=context,
    )


CHECKLIST = [
    # The decision record (REGULATORY.md "Decision / prediction record"), item by item.
    ChecklistItem("ids", "Request id", "decision record: decision_id, request_id"),
    ChecklistItem("times", "Period of use", "decision record: ts_start, ts_end (AIA 12(3)(a))"),
    ChecklistItem("hashes", "Entry hash", "decision record: seq, prev_hash, hash"),
    ChecklistItem("trace-id", "W3C trace id", "decision record: trace id"),
    ChecklistItem("lineage-ids", "Training run", "decision record: model version, artifact, run, datasets"),
    ChecklistItem("promotion", "Promotion to production", "decision record: promotion_approval_id (the gate record)"),
    ChecklistItem("deployment", "Deployment", "decision record: deployer, environment, digests, versions"),
    ChecklistItem("subject-input", "Input commitment", "decision record: subject_ref, input_ref (GDPR Art. 17)"),
    ChecklistItem("reference-db", "Reference database", "decision record: AIA 12(3)(b)-(c)"),
    ChecklistItem("outputs", "Adverse action", "decision record: score, decision, decision type (Reg B 1002.2(c))"),
    ChecklistItem("explanation", "Explanation metadata", "decision record: explainer, baseline, additivity"),
    ChecklistItem("reasons", "Principal reasons", "decision record: reason_codes <= 4 (Reg B 1002.9(b)(2))"),
    ChecklistItem("oversight", "Human review", "decision record: reviewer, outcome, reason, time (AIA 14, GDPR 22(3))"),
    ChecklistItem("notice", "Notice", "decision record: notice id, sent-at, channel (Reg B 9(a); CO 1703(4))"),
    ChecklistItem("protected", "Protected attributes", "decision record: protected attributes never model inputs"),
    ChecklistItem("retention", "Retention", "decision record: retention class, earliest purge; erasure events"),
    # The trace itself (REGULATORY.md "Per-decision trace report").
    ChecklistItem("decision-record", "Decision record", "trace report: decision record (F.1)"),
    ChecklistItem("model-version", "Model version", "trace report: model version"),
    ChecklistItem("gate", "Approvals and gate results", "trace report: approval/gate results"),
    ChecklistItem("training-run", "Training run", "trace report: training run"),
    ChecklistItem("datasets", "Datasets and content hashes", "trace report: datasets (hashes)"),
    ChecklistItem("proof", "Evidence appendix", "trace report: inclusion proof against a signed checkpoint"),
    ChecklistItem("checkpoint", "signed checkpoint", "trace report: inclusion proof against a signed checkpoint"),
    ChecklistItem("ai-role", "Role of the AI in the decision", "trace report: AIA Art. 86 explanation"),
    ChecklistItem("reviewer-actions", "Reviewer", "trace report: reviewer actions"),
]
