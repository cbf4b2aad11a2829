"""Notice of action taken (adverse-action notice) for one adverse automated decision.

The consumer notice of Regulation B 12 CFR 1002.9(a)(2) and (b) (REGULATORY.md "Consumer
notice"): the action taken, the creditor, the ECOA anti-discrimination statement with the federal
agency, the specific principal reasons (at most four, the factors the model actually scored for
this applicant, 1002.9(b)(2) and its Official Commentary) or, when none were recorded, the
disclosure of the right to a statement of reasons; the FCRA 615(a) score disclosure; and, where in
scope, the GDPR Art. 22(3)/15(1)(h) rights, Colorado SB24-205 1703(4) and EU AI Act Art. 86.

The applicant is addressed by pseudonymous reference only; no personal data is read or printed.
CFPB Circular 2022-03 was withdrawn on 12 May 2025: the duty to state specific reasons is cited
from Regulation B itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.api import Ledger
from ledger.errors import ConflictError
from reports.checklist import ChecklistItem
from reports.decision import DecisionFacts, decision_context, load_decision
from reports.document import Content
from reports.evidence import Evidence

__all__ = ["CHECKLIST", "COLORADO_EFFECTIVE", "build_adverse_action", "derived_notice_id"]

COLORADO_EFFECTIVE = "2026-06-30"  # SB24-205, as delayed by SB25B-004
ECOA_STATEMENT = (
    "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit applicants "
    "on the basis of race, color, religion, national origin, sex, marital status, age (provided the applicant has "
    "the capacity to enter into a binding contract); because all or part of the applicant's income derives from "
    "any public assistance program; or because the applicant has in good faith exercised any right under the "
    "Consumer Credit Protection Act. The Federal agency that administers compliance with this law concerning "
    "this creditor is"
)


def derived_notice_id(decision_id: str) -> str:
    """A stable notice id for a decision whose record names no notice."""
    return "AAN-" + hashlib.sha256(f"adverse-action notice:{decision_id}".encode()).hexdigest()[:16].upper()


def _scored_features(facts: DecisionFacts, evidence: Evidence) -> dict[str, Any] | None:
    """The model's scored features, from the newest evaluation of the artifact that recorded them."""
    for evaluation in reversed(facts.evaluations):
        explainability = evaluation.data.get("explainability") or {}
        features = explainability.get("features")
        if features:
            ref = evidence.cite(evaluation.seq, "the features the model scores (explainability of the evaluation)")
            return {"features": [str(f) for f in features], "ref": ref}
    return None


def _data_sources(facts: DecisionFacts) -> list[str]:
    sources = []
    for _, entry in facts.datasets:
        data = entry.data
        if not data.get("derived_from"):
            sources.append(f"{data['dataset_id']}: {data['source_uri']}")
    return sources


def build_adverse_action(
    ledger: Ledger,
    evidence: Evidence,
    *,
    decision_id: str,
    creditor_name: str = "govledger demo lender",
    creditor_address: str = "1 Example Street, Springfield",
    agency: str = "Consumer Financial Protection Bureau, 1700 G Street NW, Washington, DC 20552",
) -> Content:
    facts = load_decision(ledger, evidence, decision_id)
    data = facts.data
    if not data["output"]["adverse"]:
        raise ConflictError(f"decision {decision_id} was not adverse; no adverse-action notice applies")
    context = decision_context(ledger, evidence, facts)
    recorded_notice = data.get("notice")
    as_of_date = ledger.get(evidence.size - 1).ts[:10]
    scored = _scored_features(facts, evidence)
    reasons = context["explanation"]["reasons"]
    if scored is not None:
        for reason in reasons:
            reason["scored"] = reason["code"] in scored["features"]
    decision_date = data["ts_end"][:10]
    context.update(
        {
            "notice_info": {
                "notice_id": recorded_notice["notice_id"] if recorded_notice else derived_notice_id(decision_id),
                "recorded": recorded_notice is not None,
                "why_none": data.get("not_applicable", {}).get("notice", "no reason recorded"),
                "date": recorded_notice["sent_at"][:10] if recorded_notice else as_of_date,
                "channel": recorded_notice["channel"] if recorded_notice else None,
                "template_version": recorded_notice["template_version"] if recorded_notice else None,
            },
            "creditor": {"name": creditor_name, "address": creditor_address},
            "agency": agency,
            "ecoa_statement": ECOA_STATEMENT,
            "decision_date": decision_date,
            "scored": scored,
            "sources": _data_sources(facts),
            "colorado": {
                "effective": COLORADO_EFFECTIVE,
                "in_force": decision_date >= COLORADO_EFFECTIVE,
            },
        }
    )
    return Content(
        kind="adverse-action",
        kind_label="Notice of action taken (adverse action notice)",
        title=f"Notice of action taken: decision {decision_id}",
        subject=f"decision {decision_id}",
        template="adverse_action.html.j2",
        context=context,
    )


CHECKLIST = [
    ChecklistItem("action", "Action taken", "Reg B 1002.9(a)(2): statement of the action taken"),
    ChecklistItem("creditor", "Creditor", "Reg B 1002.9(a)(2): creditor's name and address"),
    ChecklistItem("ecoa", "The Federal Equal Credit Opportunity Act prohibits", "Reg B 1002.9(b)(1): ECOA notice"),
    ChecklistItem("agency", "Federal agency", "Reg B 1002.9(b)(1): agency name and address"),
    ChecklistItem("reasons", "Principal reasons", "Reg B 1002.9(a)(2)(i), (b)(2): specific principal reasons (<= 4)"),
    ChecklistItem("fcra", "Credit score disclosure (FCRA 615(a))", "FCRA 615(a)(2), 609(f): score and key factors"),
    ChecklistItem("gdpr", "GDPR Art. 22(3)", "GDPR 22(3), 15(1)(h): intervention, contest, logic involved"),
    ChecklistItem("colorado", "Colorado SB24-205", "C.R.S. 6-1-1703(4): AI contribution, data, correction, appeal"),
    ChecklistItem("aia86", "EU AI Act Art. 86", "AIA 86: role of the AI system and main elements"),
    ChecklistItem("date", "Date of notice", "REGULATORY.md consumer notice: date"),
    ChecklistItem("notice-id", "Notice id", "REGULATORY.md consumer notice: notice id"),
    ChecklistItem("model-version", "Model version", "REGULATORY.md consumer notice: model version on the notice"),
]
