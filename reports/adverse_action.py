"""Notice of action taken (adverse-action notice): the consumer letter for one adverse decision.

A letter in the style of the Regulation B model forms (12 CFR 1002 Appendix C): the action taken,
the creditor's name and address, up to four specific principal reasons as recorded on the
decision (1002.9(a)(2)(i), (b)(2)) or the right to a statement of reasons, the FCRA 615(a) score
disclosure when a score was used, the ECOA notice with the federal agency (1002.9(b)(1)), and
the rights over an automated decision where they are in scope. It is addressed by name when the
sealed input holds a name and the subject's key is live, else "Dear Applicant": never by the
pseudonymous subject reference. Ledger references, hashes and caveats stay off the letter: they
go to the last page, "For the creditor's file", which is not sent.

Where the facts come from (nothing is invented):
- creditor name: the `creditor_name` option, else the deployer recorded on the decision;
- creditor address: the `creditor_address` option only (the ledger records no address); without
  it the letter names no address and the creditor's-file page carries a failing finding;
- federal agency: the `agency` option, else the CFPB (the agency for non-bank creditors and for
  banks over $10 billion, Reg B Appendix A); a creditor supervised by another agency passes it.
The options are recorded in `report.issued`.

Scope of the rights paragraphs (the ledger records no jurisdiction per decision; it records the
model's declared `use_domain`):
- GDPR Art. 22(3)/15(1)(h): always (human intervention, contest, the logic involved);
- Colorado SB24-205 1703(4): when the use is one of its consequential decisions (credit,
  employment, insurance, housing, healthcare, education); when no use is declared, included;
- EU AI Act Art. 86: when the use is a high-risk use of Annex III (credit scoring 5(b),
  employment 4, life and health insurance 5(c), education 3); when no use is declared, included.

Refused (ConflictError: HTTP 409, CLI exit 2, nothing written): a favourable decision; a decision
whose latest human review overrode or reversed it (the action the letter would state is no longer
the action taken); a decision whose recorded reasons name a prohibited basis (Reg B 1002.2(z) and
the policy's `prohibited_bases`), its mapped column, or a declared proxy (1002.6(b)).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml

from ledger.api import Ledger
from ledger.errors import ConflictError, NotFoundError, PrivacyError
from ledger.privacy.sealing import ErasedInput, read_decision_input
from reports.checklist import ChecklistItem
from reports.decision import DecisionFacts, decision_context, load_decision
from reports.document import Content
from reports.evidence import Evidence
from reports.findings import Finding, Findings

__all__ = [
    "AIA_HIGH_RISK_USES",
    "CHECKLIST",
    "COLORADO_EFFECTIVE",
    "COLORADO_USES",
    "DEFAULT_AGENCY",
    "NAME_FIELDS",
    "REG_B_PROHIBITED_BASES",
    "build_adverse_action",
    "derived_notice_id",
    "prohibited_reasons",
]

COLORADO_EFFECTIVE = "2026-06-30"  # SB24-205, as delayed by SB25B-004
COLORADO_USES = frozenset({"credit", "employment", "insurance", "housing", "healthcare", "education"})
AIA_HIGH_RISK_USES = frozenset({"credit", "employment", "insurance", "education"})
DEFAULT_AGENCY = "Consumer Financial Protection Bureau, 1700 G Street NW, Washington, DC 20552"
NAME_FIELDS = ("name", "full_name", "applicant_name")
# 12 CFR 1002.2(z), in the class names policies use; a policy's own prohibited_bases are added.
REG_B_PROHIBITED_BASES = (
    "race",
    "color",
    "religion",
    "national_origin",
    "sex",
    "marital_status",
    "age",
    "public_assistance",
)
# How a reason code can plainly name a basis (normalised: lower case, separators removed). Kept here
# because reports may not import policies; the gate applies the same names to model inputs.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "sex": ("sex", "gender"),
    "race": ("race", "racial", "raceethnicity"),
    "ethnicity": ("ethnicity", "ethnic", "hispanic"),
    "color": ("color", "colour", "skincolor", "skincolour"),
    "religion": ("religion", "religious", "faith"),
    "national_origin": ("nationalorigin", "nationality", "countryoforigin", "nativecountry", "birthcountry"),
    "age": ("age", "dateofbirth", "dob", "birthdate", "birthyear", "yearofbirth"),
    "marital_status": ("maritalstatus", "marital", "married"),
    "public_assistance": ("publicassistance", "welfare", "benefits"),
}
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


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _policy_bases(ledger: Ledger, facts: DecisionFacts, evaluation: dict[str, Any]) -> list[str]:
    """The prohibited bases the evaluation's policy declares (its YAML text, in the ledger)."""
    seq = facts.policies.get(str(evaluation.get("policy", {}).get("sha256")))
    if seq is None:
        return []
    document = yaml.safe_load(ledger.get(seq).data["text"])
    classes = document.get("protected_classes") if isinstance(document, dict) else None
    bases = classes.get("prohibited_bases") if isinstance(classes, dict) else None
    return [str(b) for b in bases] if isinstance(bases, list) else []


def prohibited_reasons(ledger: Ledger, facts: DecisionFacts) -> dict[str, str]:
    """Recorded reason codes that are, or stand for, a prohibited basis: code → why.

    Bases: Reg B 1002.2(z) plus the prohibited_bases of every policy the model was evaluated under.
    A code is caught if it is the column an evaluation mapped to a basis, a proxy it declared, or
    plainly names a basis (`gender`, `Marital-Status`)."""
    bases = set(REG_B_PROHIBITED_BASES)
    mapped: dict[str, str] = {}
    proxies: set[str] = set()
    for entry in facts.evaluations:
        data = entry.data
        bases.update(_policy_bases(ledger, facts, data))
        used = data.get("protected_classes") or {}
        mapped.update({str(column): str(name) for name, column in (used.get("mapping") or {}).items()})
        proxies.update(str(p) for p in used.get("proxies") or [])
    spellings = {s: name for name in bases for s in (_normalised(name), *_SPELLINGS.get(name, ()))}
    found: dict[str, str] = {}
    explanation = facts.data.get("explanation") or {}
    for reason in explanation.get("reason_codes", []):
        code = str(reason["code"])
        column = _source_column(code, set(mapped) | proxies)
        if column in mapped and mapped[column] in bases:
            found[code] = f"the column mapped to the prohibited basis {mapped[column]}"
        elif column in proxies:
            found[code] = "a declared proxy for a prohibited basis"
        elif _normalised(code) in spellings:
            found[code] = f"the prohibited basis {spellings[_normalised(code)]}"
    return found


def _source_column(code: str, columns: set[str]) -> str:
    """The column a reason code stands for: itself, or the column of a one-hot code (`sex_Female`,
    `sex=Female`)."""
    if code in columns:
        return code
    for column in columns:
        if code.startswith((f"{column}_", f"{column}=")):
            return column
    return code


def _refuse_unless_adverse(ledger: Ledger, facts: DecisionFacts, decision_id: str) -> None:
    data = facts.data
    if not data["output"]["adverse"]:
        raise ConflictError(f"decision {decision_id} was not adverse; no adverse-action notice applies")
    review = facts.final_review()
    if review is not None and review.data["outcome"] != "accepted":
        new = review.data.get("new_decision")
        if review.data["outcome"] == "reversed" or new != data["output"]["decision"]:
            now = f"; the decision is now {new!r}" if new else ""
            raise ConflictError(
                f"decision {decision_id} was {review.data['outcome']} on human review (entry {review.seq}){now}: "
                "the adverse action no longer stands, so no adverse-action notice applies"
            )
    unlawful = prohibited_reasons(ledger, facts)
    if unlawful:
        named = "; ".join(f"{code} ({why})" for code, why in sorted(unlawful.items()))
        raise ConflictError(
            f"decision {decision_id} records principal reasons on a prohibited basis: {named}. Reg B 1002.6(b) "
            "forbids them as reasons; refer the decision to a person (explanation.review_required) instead"
        )


def _addressee(ledger: Ledger, facts: DecisionFacts) -> str | None:
    """The applicant's name from the sealed input, if one is held and the key is live."""
    sealed = facts.data.get("input")
    if sealed is None or facts.erasure is not None:
        return None
    with ledger.read_snapshot() as conn:
        try:
            clear = read_decision_input(conn, facts.data["subject_ref"], facts.decision_id, sealed)
        except (PrivacyError, NotFoundError):
            return None
    if isinstance(clear, ErasedInput) or not isinstance(clear, dict):
        return None
    for field in NAME_FIELDS:
        value = clear.get(field)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _score_range(score: float | None, option: str | None) -> str | None:
    if option:
        return option
    if score is not None and 0.0 <= float(score) <= 1.0:
        return "0 to 1"  # the model's output is a probability
    return None


def _in_scope(use_domain: str | None, decision_date: str) -> dict[str, Any]:
    return {
        "use_domain": use_domain,
        "gdpr": True,
        "colorado": use_domain is None or use_domain in COLORADO_USES,
        "colorado_in_force": decision_date >= COLORADO_EFFECTIVE,
        "aia86": use_domain is None or use_domain in AIA_HIGH_RISK_USES,
    }


def _findings(context: dict[str, Any], creditor_address: str | None, score_range: str | None) -> Findings:
    items = []
    decision_seq = (context["decision"]["seq"],)
    if creditor_address is None:
        items.append(
            Finding(
                "fail",
                "No creditor address: the letter cannot give one",
                "Reg B 1002.9(a)(2) requires the creditor's name and address; the ledger records none. "
                "Issue the notice with the creditor_address option.",
            )
        )
    if context["output"]["score"] is not None and score_range is None:
        items.append(
            Finding(
                "fail",
                "The score's range is not known",
                "FCRA 609(f)(1) requires the range of possible scores; pass the score_range option.",
                decision_seq,
            )
        )
    explanation = context["explanation"]
    if not explanation["reasons"]:
        items.append(
            Finding(
                "warn",
                "No principal reasons: the letter gives the right to a statement of reasons",
                str(explanation["no_reasons_why"]),
                decision_seq,
            )
        )
    if context["notice"] is None:
        items.append(
            Finding(
                "info",
                "The decision record names no notice sent",
                str(context["notice_na"]),
                decision_seq,
            )
        )
    if context["scope"]["use_domain"] is None:
        items.append(
            Finding(
                "info",
                "The model declares no use_domain: every rights paragraph is included",
                "Register the model with use_domain to scope the Colorado and EU AI Act paragraphs.",
            )
        )
    return Findings(tuple(items))


def build_adverse_action(
    ledger: Ledger,
    evidence: Evidence,
    *,
    decision_id: str,
    creditor_name: str | None = None,
    creditor_address: str | None = None,
    agency: str | None = None,
    score_range: str | None = None,
) -> Content:
    facts = load_decision(ledger, evidence, decision_id)
    _refuse_unless_adverse(ledger, facts, decision_id)
    data = facts.data
    context = decision_context(ledger, evidence, facts)
    recorded_notice = data.get("notice")
    as_of_date = ledger.get(evidence.size - 1).ts[:10]
    decision_date = data["ts_end"][:10]
    deployer = (data.get("deployment") or {}).get("deployer")
    name = creditor_name or deployer
    if not name:
        raise ConflictError(
            f"decision {decision_id} records no deployer and no creditor_name was given: "
            "a notice must name the creditor (Reg B 1002.9(a)(2))"
        )
    score = context["output"]["score"]
    scale = _score_range(score, score_range)
    addressee = _addressee(ledger, facts)
    use_domain = facts.model.data.get("use_domain")
    options = {
        key: value
        for key, value in (
            ("creditor_name", creditor_name),
            ("creditor_address", creditor_address),
            ("agency", agency),
            ("score_range", score_range),
        )
        if value is not None
    }
    context.update(
        {
            "notice_info": {
                "notice_id": recorded_notice["notice_id"] if recorded_notice else derived_notice_id(decision_id),
                "recorded": recorded_notice is not None,
                "date": recorded_notice["sent_at"][:10] if recorded_notice else as_of_date,
            },
            "addressee": addressee,
            "creditor": {
                "name": name,
                "address": creditor_address,
                "source": "option" if creditor_name else "the deployer recorded on the decision",
            },
            "agency": agency or DEFAULT_AGENCY,
            "agency_source": "option" if agency else "default (CFPB)",
            "ecoa_statement": ECOA_STATEMENT,
            "decision_date": decision_date,
            "score_range": scale,
            "scope": _in_scope(use_domain, decision_date),
            "colorado_effective": COLORADO_EFFECTIVE,
            "options": options,
        }
    )
    findings = _findings(context, creditor_address, scale)
    context["findings"] = findings
    reasons = len(context["explanation"]["reasons"])
    outcome = f"Notice of the adverse action taken on {decision_date} on decision {decision_id}, " + (
        f"giving {reasons} principal reason{'s' if reasons != 1 else ''}." if reasons else "giving no reason."
    )
    return Content(
        kind="adverse-action",
        kind_label="Notice of action taken (adverse action notice)",
        title="Notice of action taken",
        subject=f"decision {decision_id}",
        template="adverse_action.html.j2",
        form="letter",
        context=context,
        outcome=outcome,
        findings=findings,
        options=options,
    )


CHECKLIST = [
    ChecklistItem("action", "Action taken", "Reg B 1002.9(a)(2): statement of the action taken"),
    ChecklistItem("creditor", "Creditor", "Reg B 1002.9(a)(2): creditor's name and address"),
    ChecklistItem("ecoa", "The Federal Equal Credit Opportunity Act prohibits", "Reg B 1002.9(b)(1): ECOA notice"),
    ChecklistItem("agency", "Federal agency", "Reg B 1002.9(b)(1): agency name and address"),
    ChecklistItem("reasons", "Principal reasons", "Reg B 1002.9(a)(2)(i), (b)(2): specific principal reasons (<= 4)"),
    ChecklistItem("fcra", "Your score", "FCRA 615(a)(2), 609(f): score, range, date, key factors, source"),
    ChecklistItem("gdpr", "ask for a person to review", "GDPR 22(3), 15(1)(h): intervention, contest, logic involved"),
    ChecklistItem("date", "Date", "REGULATORY.md consumer notice: date"),
    ChecklistItem("notice-id", "Notice reference", "REGULATORY.md consumer notice: notice id"),
    ChecklistItem("model-version", "Model version", "REGULATORY.md consumer notice: model version (creditor's file)"),
]
