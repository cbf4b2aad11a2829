"""Decision trace report: one automated decision and everything behind it, each statement citing
the ledger entry that proves it (REGULATORY.md "Per-decision trace report").

The decision record (times, request and trace ids, model version, input commitment, output,
principal reasons, explanation metadata, deployment, notice, retention), its human reviews, the
role the AI played in it (EU AI Act Art. 86), and the chain behind it as the log stood when it
was recorded: the promotion that put the model in production, the approvals and the evaluations
of the exact artifact they relied on, the training run, and the datasets back through
`derived_from` with their content hashes. The clear input is never read or printed: only its
commitment, and whether the subject's key still exists (an erased subject's input is unreadable).

`reports.decision_facts` loads what both this report and the adverse-action notice stand on,
`reports.decision_context` states what they share, and `reports.decision_chain` the chain behind
the model; this module assembles the report and holds its checklist.
"""

from __future__ import annotations

from typing import Any

from ledger.api import Ledger
from reports.checklist import ChecklistItem
from reports.decision_chain import chain_sections
from reports.decision_context import decision_context
from reports.decision_facts import DecisionFacts, load_decision
from reports.document import Content
from reports.evidence import Evidence
from reports.findings import Finding, Findings

__all__ = ["CHECKLIST", "DecisionFacts", "build_decision", "decision_context", "load_decision"]


def build_decision(ledger: Ledger, evidence: Evidence, *, decision_id: str) -> Content:
    facts = load_decision(ledger, evidence, decision_id)
    context = decision_context(ledger, evidence, facts)
    context.update(chain_sections(facts, evidence, context["explanation"]))
    return Content(
        kind="decision",
        kind_label="Decision trace report",
        title=f"Decision trace: {decision_id}",
        subject=f"decision {decision_id}",
        template="decision.html.j2",
        context=context,
        outcome=decision_outcome(context),
        findings=decision_findings(facts, context),
    )


def decision_outcome(context: dict[str, Any]) -> str:
    """One sentence: what the model decided, when, and what the person reviewing it made of it."""
    decision, output, final = context["decision"], context["output"], context["final"]
    text = f"{context['model']['key']} decided {output['decision']} on {decision['ts_start'][:10]}"
    if final["review_outcome"] is None:
        return text + "; no human review is recorded."
    if final["changed"]:
        return text + f"; a person's review ({final['review_outcome']}) changed it to {final['decision']}."
    return text + f"; a person's review {final['review_outcome']} it."


def decision_findings(facts: DecisionFacts, context: dict[str, Any]) -> Findings:
    """Findings about this decision, each from a record: an adverse decision without the review
    the model's intended use promises, reasons withheld or naming a protected attribute, an open
    appeal, an erased input, a model that was not passed by its latest evaluation."""
    items: list[Finding] = []
    output, seq = context["output"], facts.entry.seq
    promise = (facts.model.data.get("human_oversight") or {}).get("review")
    reviewed = bool(facts.reviews)
    if not reviewed and (promise == "every_decision" or (promise == "every_adverse" and output["adverse"])):
        what = "every decision" if promise == "every_decision" else "every adverse decision"
        items.append(
            Finding(
                "fail", "No human review recorded", f"The model's intended use promises {what} is reviewed.", (seq,)
            )
        )
    explanation = context["explanation"]
    if output["adverse"] and not explanation["reasons"]:
        items.append(Finding("warn", "Principal reasons withheld", str(explanation["no_reasons_why"]), (seq,)))
    if context["protected"]["in_reasons"] != "none":
        items.append(
            Finding("fail", "A principal reason names a protected attribute", context["protected"]["in_reasons"])
        )
    answered = {r.data.get("appeal_id") for r in facts.reviews} - {None}
    for appeal in facts.appeals:
        if appeal.data["appeal_id"] not in answered:
            items.append(Finding("warn", f"Appeal {appeal.data['appeal_id']} is open", "", (appeal.seq,)))
    if facts.erasure is not None:
        items.append(Finding("info", "The subject was erased: the input is unreadable", "", (facts.erasure.seq,)))
    latest = facts.evaluations[-1] if facts.evaluations else None
    if latest is None:
        items.append(Finding("insufficient", "No evaluation of the model's artifact before the decision"))
    elif latest.data["verdict"] != "passed":
        items.append(
            Finding(
                "warn", f"The latest evaluation before the decision was {latest.data['verdict']}", "", (latest.seq,)
            )
        )
    return Findings(items=tuple(items))


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
    ChecklistItem("proof", "Appendix: evidence and how to verify", "trace report: inclusion proofs (attached)"),
    ChecklistItem("checkpoint", "signed checkpoint", "trace report: inclusion proof against a signed checkpoint"),
    ChecklistItem("ai-role", "Role of the AI in the decision", "trace report: AIA Art. 86 explanation"),
    ChecklistItem("reviewer-actions", "Reviewer", "trace report: reviewer actions"),
]
