"""The context the decision trace report and the adverse-action notice share: the decision record
(times, request and trace ids, model version, input commitment, output, principal reasons,
explanation metadata, deployment, notice, retention), its human reviews and final outcome, the
role the AI played in it (EU AI Act Art. 86), and the model with the promotion that put it in
production.

Why a module of its own: both documents state these facts the same way, citing the same entries;
the trace report adds the chain behind the model (`reports.decision_chain`). The clear input is
never read or printed: only its commitment, and whether the subject's key still exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.api import Ledger
from reports.decision_facts import NOT_RECORDED, DecisionFacts, appeal_rows, na, na_reason, review_rows
from reports.evidence import Evidence

__all__ = ["decision_context"]


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
    if explanation.get("review_required"):  # no lawful reason could be given (Reg B 1002.6(b)): referred
        why = explanation.get("review_reason") or "the decision was referred to a person for review"
    elif not reasons:
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
        "appeals": appeal_rows(facts, evidence),
        "notice": data.get("notice"),
        "notice_na": None if data.get("notice") else na(data, "notice"),
        "retention": data.get("retention"),
        "retention_na": None if data.get("retention") else na(data, "retention"),
        "deployment": _deployment(data),
        "ai_role": _ai_role(facts, reviews, explanation),
        "model": _model(facts, evidence),
    }
