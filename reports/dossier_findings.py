"""The dossier's executive summary and risk register, derived from what the ledger records.

Why derived: a dossier that says "Open findings: none" while 1 of 8,737 adverse decisions was
reviewed against an intended use that promises every one is worse than no summary. So each
finding comes from a record: a rule that did not pass in the latest evaluation under a policy, a
class not evaluated, a group excluded for size, review coverage against the registration's
`human_oversight` promise, a refused promotion, reasons withheld for review, an open appeal,
a production impact ratio under the policy's threshold. "No findings" is left to
`Findings.clean`, which also needs every check to have run.
"""

from __future__ import annotations

from typing import Any

from reports.dossier_data import fmt
from reports.findings import Finding, Findings, Severity

__all__ = ["dossier_findings", "dossier_outcome", "latest_per_policy", "risk_register"]

_PROMISES = {
    "every_adverse": "every adverse decision",
    "every_decision": "every decision",
    "sampled": "a sample of decisions",
    "none": "no review",
}


def latest_per_policy(evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest evaluation under each policy version (evaluations come newest first)."""
    seen: set[str] = set()
    latest = []
    for ev in evaluations:
        if ev["policy"]["sha256"] not in seen:
            seen.add(ev["policy"]["sha256"])
            latest.append(ev)
    return latest


def _rule_findings(ev: dict[str, Any]) -> list[Finding]:
    policy = f"{ev['policy']['name']} {ev['policy']['version']}"
    found = []
    for rule in ev["rules"]:
        severity: Severity | None = None
        if rule["verdict"] == "fail":
            severity = "fail" if rule["severity"] == "blocking" else "warn"
        elif rule["verdict"] in ("insufficient_evidence", "not_evaluated"):
            severity = "insufficient"
        if severity is not None:
            title = f"{rule['rule_id']} ({policy}): {rule['verdict_label'].lower()}, {rule['severity']} rule"
            found.append(Finding(severity, title, rule["message"], (ev["seq"],)))
        excluded = [g["group"] for g in rule["groups"] if g["excluded"]]
        if excluded:
            detail = "; ".join(f"{g['group']}: {g['excluded']}" for g in rule["groups"] if g["excluded"])
            title = f"{rule['rule_id']} ({policy}): {len(excluded)} group(s) excluded for size: {', '.join(excluded)}"
            found.append(Finding("info", title, detail, (ev["seq"],)))
    return found


def _coverage_finding(model: dict[str, Any], oversight: dict[str, Any]) -> tuple[Finding | None, bool]:
    """Review coverage against the promise; (finding, checked)."""
    promise = model.get("human_oversight")
    coverage = oversight["coverage"]
    if not promise:
        return None, False
    review = promise["review"]
    if review == "every_adverse":
        have, need, what = coverage.adverse_reviewed, coverage.adverse, "adverse decisions"
    elif review == "every_decision":
        have, need, what = coverage.reviewed, coverage.decisions, "decisions"
    elif review == "sampled":
        have, what = coverage.reviewed, "decisions"
        need = int(-(-coverage.decisions * float(promise["sample_share"]) // 1))
    else:
        return None, True
    if have >= need:
        return None, True
    title = f"Human review: {have:,} of {need:,} {what} reviewed"
    detail = (
        f"The intended use promises {_PROMISES[review]} is reviewed by a person "
        f"(registration {model['ref']}); the ledger holds reviews of {have:,}."
    )
    return Finding("fail", title, detail, (model["seq"],)), True


def dossier_findings(
    *,
    model: dict[str, Any],
    evaluations: list[dict[str, Any]],
    oversight: dict[str, Any],
    refused: list[dict[str, Any]],
    production: dict[str, Any] | None,
    withheld: list[int],
    threshold: float | None,
) -> Findings:
    """Every finding the ledger supports about this version (see the module doc)."""
    items: list[Finding] = []
    not_run: list[str] = []
    latest = latest_per_policy(evaluations)
    if not latest:
        not_run.append("validation (no evaluation of this artifact is recorded)")
    for ev in latest:
        items += _rule_findings(ev)
        shortfall = (ev.get("protected_classes") or {}).get("shortfall")
        if shortfall:
            items.append(Finding("insufficient", f"Protected classes not covered ({ev['policy']['name']})", shortfall))
    coverage, checked = _coverage_finding(model, oversight)
    if coverage is not None:
        items.append(coverage)
    if not checked:
        not_run.append("review coverage (the registration declares no human_oversight to check it against)")
    for rf in refused:
        items.append(Finding("warn", f"Promotion to {rf['stage']} refused on {rf['ts'][:10]}", rf["why"], (rf["seq"],)))
    if withheld:
        items.append(
            Finding(
                "info",
                f"Reasons withheld for review on {len(withheld):,} adverse decision(s)",
                "No lawful principal reason could be given (only a prohibited basis or proxy explained the outcome); "
                "the decisions were referred to a person.",
                (withheld[0],),
            )
        )
    for appeal in oversight["appeals"]:
        if appeal["answer"] is None:
            items.append(
                Finding("warn", f"Open appeal {appeal['appeal_id']} against {appeal['decision_id']}", appeal["ref"])
            )
    if production is not None and threshold is not None:
        for cls in production["classes"]:
            if cls["p_low"] is not None and cls["p_low"] < threshold:
                title = f"Production impact ratio by {cls['name']} {fmt(cls['p_low'])}, under {fmt(threshold)}"
                detail = f"On the evaluation data it was {cls['e_low_text']}; see Production beside evaluation."
                items.append(Finding("warn", title, detail))
    return Findings(items=tuple(items), checks_complete=not not_run, not_run=tuple(not_run))


def dossier_outcome(
    *,
    name: str,
    version: str,
    evaluations: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
    required: int | None,
    stage: dict[str, Any] | None,
) -> str:
    """One sentence: the verdict under each policy, the approvals, the stage."""
    latest = latest_per_policy(evaluations)
    if latest:
        verdicts = [f"{ev['verdict']} {ev['policy']['name']} {ev['policy']['version']}" for ev in latest]
        text = f"{name}@{version} {_join(verdicts)}"
    else:
        text = f"{name}@{version} has no recorded evaluation"
    approving = sorted({a["approver"] for a in approvals if a["decision"] == "approve"})
    rejecting = [a for a in approvals if a["decision"] == "reject"]
    if required:
        text += f"; approved by {len(approving)} of {required} required approver{'s' if required != 1 else ''}"
    elif approving:
        text += f"; approved by {_join(approving)}"
    if rejecting:
        text += f"; rejected by {len(rejecting)}"
    if stage:
        text += f"; in {stage['stage']} since {stage['ts'][:10]}"
    else:
        text += "; not promoted"
    return text + "."


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def risk_register(
    *,
    model: dict[str, Any],
    latest: list[dict[str, Any]],
    performance: dict[str, Any] | None,
    production: dict[str, Any] | None,
    oversight: dict[str, Any],
    datasets_overlap: str,
    threshold: float | None,
) -> list[dict[str, str]]:
    """Rows of risk, evidence, mitigation and status, each derived from a record."""
    rows = []
    fairness = [r for ev in latest for r in ev["rules"] if r["category"] == "fairness"]
    failing = [r["rule_id"] for r in fairness if r["verdict"] != "pass"]
    evidence = "; ".join(f"{r['rule_id']} {r['value']} ({r['verdict_label'].lower()})" for r in fairness) or "none"
    if production and production["classes"]:
        evidence += "; production lowest ratio " + ", ".join(
            f"{c['name']} {c['p_low_text']}" for c in production["classes"]
        )
    rows.append(
        {
            "risk": "Disparate impact on a protected class",
            "evidence": evidence,
            "mitigation": "fairness rules gate promotion; " + (model.get("monitoring_plan") or "no monitoring plan"),
            "status": "open" if failing or not fairness else "controlled",
        }
    )
    explain = [r for ev in latest for r in ev["rules"] if r["category"] == "explainability"]
    rows.append(
        {
            "risk": "A prohibited basis or proxy drives outcomes or reasons",
            "evidence": "; ".join(f"{r['rule_id']} {r['value']} ({r['verdict_label'].lower()})" for r in explain)
            or "no explainability rule evaluated",
            "mitigation": "prohibited bases excluded from inputs and from principal reasons",
            "status": "controlled" if explain and all(r["verdict"] == "pass" for r in explain) else "open",
        }
    )
    if performance:
        auc = next(
            (c for c, m in zip(performance["rows"][0]["cells"], performance["metrics"], strict=True) if m == "AUC"),
            None,
        )
        small = performance["too_small_classes"]
        rows.append(
            {
                "risk": "Weak or uneven discrimination between outcomes",
                "evidence": f"AUC {auc['value']} ({auc['interval']})" if auc else "AUC not measured (no scores)",
                "mitigation": "per-group performance with intervals reviewed at validation",
                "status": f"open: groups under {performance['min_group_size']} rows not assessed ({', '.join(small)})"
                if small
                else "monitored",
            }
        )
    promise = model.get("human_oversight")
    coverage = oversight["coverage"]
    rows.append(
        {
            "risk": "Adverse decisions taken without the promised human review",
            "evidence": f"{coverage.adverse_reviewed:,} of {coverage.adverse:,} adverse decisions reviewed",
            "mitigation": (promise or {}).get("description") or "no review design recorded at registration",
            "status": "open"
            if promise and promise["review"] == "every_adverse" and coverage.adverse_reviewed < coverage.adverse
            else ("not declared" if not promise else "controlled"),
        }
    )
    rows.append(
        {
            "risk": "Evaluation data overlaps training data",
            "evidence": datasets_overlap,
            "mitigation": "evaluation data registered separately, with its own hash",
            "status": "controlled" if datasets_overlap.startswith("distinct") else "open",
        }
    )
    rows.append(
        {
            "risk": "Use outside the intended purpose",
            "evidence": f"declared domain: {model.get('use_domain') or 'not declared'}; out of scope: "
            f"{model.get('out_of_scope_uses') or 'not declared'}",
            "mitigation": "reports follow the declared domain (a bias audit chooses its law from it)",
            "status": "documented" if model.get("out_of_scope_uses") else "open",
        }
    )
    if threshold is None:
        rows[0]["status"] = "open (no impact-ratio rule)" if not fairness else rows[0]["status"]
    return rows
