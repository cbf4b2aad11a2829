"""Bias audit of a model's logged decisions, under the law its declared use calls for.

The model's `use_domain` (recorded at registration) chooses the analysis (`choose_law`): NYC Local
Law 144 (6 RCNY 5-300 to 5-304) for employment, with the four-fifths flags of the EEOC Uniform
Guidelines; a fair-lending analysis (`reports.fair_lending`) for credit and housing. Another use,
or none declared, is refused with the fix; so is a law the use does not call for, unless an
`override_reason` is given, which is recorded in `report.issued` and shown on the cover. Why refuse
rather than default: an LL144 audit of a credit model (or a fair-lending analysis of a hiring
tool) answers a question no regulator of that use asks, and reads as compliance evidence.
The auditor's name, firm and independence statement are options, recorded in the same way.

Computed from the historical data the ledger holds: the decisions one model version recorded in
a time range. Each decision's sex and race/ethnicity come from its sealed input, opened with the
subject's key; a decision whose input is absent, lacks the field, or can no longer be read (its
subject was erased) counts in the unknown category, reported as a count and left out of the
rates. Selected means the decision was not adverse. The arithmetic is in
`reports.bias_audit_data`; only aggregates are printed, never an individual's data.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.api import Ledger
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PrivacyError
from ledger.lineage.decision_reads import PeriodDecision, decisions_in_period, erasure_seqs
from ledger.lineage.registry_reads import approval_seqs, model_version
from ledger.log.entry import UTC_PATTERN, format_ts
from ledger.privacy.sealing import ErasedInput, read_decision_input
from ledger.storage.db import Connection
from reports.bias_audit_data import AuditRecord, DimensionTable, ScoringAudit, scoring_audit, selection_audit
from reports.charts import bar_chart_svg
from reports.checklist import ChecklistItem
from reports.document import Content
from reports.evidence import Evidence
from reports.fair_lending import (
    Applicant,
    class_source,
    fair_lending_context,
    reconciliation,
    reconciliation_findings,
)
from reports.findings import Finding, Findings

__all__ = [
    "CHECKLIST",
    "DEFAULT_AUDITOR",
    "DOMAIN_LAW",
    "FAIR_LENDING_CHECKLIST",
    "LAWS",
    "build_bias_audit",
    "choose_law",
]

DEFAULT_AUDITOR = "govledger (automated; not an independent auditor)"
LAWS = {
    "ll144": "Bias audit (NYC Local Law 144)",
    "fair-lending": "Fair-lending analysis (ECOA / Regulation B disparate impact)",
}
_ARTICLE = {"ll144": "an NYC Local Law 144 bias audit", "fair-lending": "a fair-lending analysis"}
# The analysis a declared use calls for. LL144 covers automated employment decision tools only;
# ECOA covers credit, and the Fair Housing Act's disparate-impact test (24 CFR 100.500) is the
# same comparison of approval rates for housing. Other uses have no analysis here (refused).
DOMAIN_LAW = {"employment": "ll144", "credit": "fair-lending", "housing": "fair-lending"}
_UTC = re.compile(UTC_PATTERN)

# Why a decision's category could not be known, whatever the dimension.
NO_INPUT = "no input was recorded with the decision"
ERASED = "the subject was erased (GDPR Art. 17): the input can no longer be read"
UNREADABLE = "the sealed input could not be opened"
NOT_AN_OBJECT = "the input is not a record of named fields"

MAX_ERASURES_CITED = 5  # each citation prints an inclusion proof; the count is always printed

SELECTION_TITLES = (
    "Selection rates by sex",
    "Selection rates by race/ethnicity",
    "Intersectional selection rates (sex × race/ethnicity)",
)
SCORING_TITLES = (
    "Scoring rates by sex",
    "Scoring rates by race/ethnicity",
    "Intersectional scoring rates (sex × race/ethnicity)",
)


@dataclass(frozen=True)
class _Decision:
    seq: int
    ts: str
    subject_ref: str
    record: AuditRecord
    fields: dict[str, Any]  # the clear input ({} when unreadable); never printed
    unreadable_reason: str | None  # the whole input is unusable
    deployer: str | None
    promotion_seq: int | None


def _utc(value: str, name: str) -> str:
    """The fixed-width form of an RFC 3339 UTC time (the projections' `ts` compare as strings)."""
    invalid = InvalidInputError(
        f"{name} must be an RFC 3339 UTC time such as 2026-01-01T00:00:00Z, got {str(value)[:40]!r}",
        [{"loc": [name], "msg": "not an RFC 3339 UTC time", "type": "datetime"}],
    )
    if not isinstance(value, str) or not _UTC.match(value):
        raise invalid
    try:
        return format_ts(datetime.fromisoformat(value))
    except ValueError:  # well formed but not a real time, e.g. month 13 or year 0
        raise invalid from None


def _category(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _score(output: Any) -> float | None:
    score = output.get("score") if isinstance(output, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    return float(score)


def _read(conn: Connection, row: PeriodDecision, sex_field: str, race_field: str) -> _Decision:
    data = row.entry.data
    sealed = data.get("input")
    clear: Any = None
    reason: str | None = None
    if sealed is None:
        reason = NO_INPUT
    else:
        try:
            clear = read_decision_input(conn, row.subject_ref, row.decision_id, sealed)
        except (PrivacyError, NotFoundError):
            reason = UNREADABLE
        else:
            if isinstance(clear, ErasedInput):
                reason, clear = ERASED, None
            elif not isinstance(clear, dict):
                reason, clear = NOT_AN_OBJECT, None
    fields = clear if isinstance(clear, dict) else {}
    deployment = data.get("deployment") or {}
    promotion = data.get("promotion_seq")
    return _Decision(
        seq=row.seq,
        ts=row.ts,
        subject_ref=row.subject_ref,
        record=AuditRecord(
            sex=_category(fields.get(sex_field)),
            race=_category(fields.get(race_field)),
            selected=not row.adverse,
            score=_score(data.get("output")),
        ),
        fields=fields,
        unreadable_reason=reason,
        deployer=deployment.get("deployer") if isinstance(deployment, dict) else None,
        promotion_seq=promotion if isinstance(promotion, int) else None,
    )


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _p_text(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def _no_ratio_reason(table: DimensionTable) -> str | None:
    if not table.rows:
        return "no individual has a known category in this dimension"
    if table.reference is None:
        return "every category is under 2% of the individuals with a known category"
    if all(row.impact_ratio is None for row in table.rows):
        return "no category has a single selected (or above-median) individual, so every rate is 0"
    return None


def _table_context(table: DimensionTable, title: str) -> dict[str, Any]:
    return {
        "no_ratio_reason": _no_ratio_reason(table),
        "title": title,
        "dimension": table.dimension,
        "known": table.known,
        "unknown": table.unknown,
        "reference": table.reference,
        "rows": [
            {
                "category": r.category,
                "n": r.n,
                "hits": r.hits,
                "rate": r.rate,
                "share": r.share,
                "excluded": r.excluded,
                "impact_ratio": r.impact_ratio,
                "reference": r.reference,
                "below_four_fifths": r.below_four_fifths,
                "z": None if r.z is None else f"{r.z:+.2f}",
                "p": _p_text(r.p_value),
                "significant": r.p_value is not None and r.p_value < 0.05,
            }
            for r in table.rows
        ],
        "excluded": [{"category": r.category, "n": r.n, "share": r.share, "rate": r.rate} for r in table.excluded],
        "flagged": [r.category for r in table.flagged],
    }


def choose_law(key: str, use_domain: str | None, law: str | None, override_reason: str | None) -> str:
    """The analysis the model's declared use calls for, or the one asked for with a recorded reason.

    Refused (ConflictError: HTTP 409, exit 2) when the use calls for none of them, or for another
    one than asked, and no override_reason is given; the message names the use and the fix."""
    if law is not None and law not in LAWS:
        raise InvalidInputError(
            f"law must be one of {', '.join(LAWS)}, got {law[:40]!r}",
            [{"loc": ["law"], "msg": "unknown law", "type": "enum"}],
        )
    fitting = DOMAIN_LAW.get(use_domain) if use_domain else None
    if law is None or law == fitting:
        if fitting is not None:
            return fitting
        declared = (
            "declares no use_domain"
            if use_domain is None
            else f"is declared for {use_domain!r}, a use neither NYC LL144 (employment) nor the fair-lending "
            "analysis (credit, housing) covers"
        )
        raise ConflictError(
            f"model {key} {declared}, so the law of its bias audit cannot be chosen: register the model "
            "version with use_domain (employment: NYC LL144; credit or housing: fair-lending analysis), or give "
            "law and override_reason (recorded in report.issued and shown on the cover)"
        )
    if override_reason:
        return law
    use = "declares no use_domain" if use_domain is None else f"is declared for {use_domain!r} (use_domain)"
    fix = "" if fitting is None else f" Its analysis is {_ARTICLE[fitting]} (omit law)."
    raise ConflictError(
        f"{_ARTICLE[law]} does not apply: model {key} {use}.{fix} To produce it anyway, give "
        "override_reason (recorded in report.issued and shown on the cover)"
    )


def _auditor_rows(
    auditor: str, auditor_firm: str | None, independence: str | None
) -> tuple[list[tuple[str, str]], list[Finding]]:
    rows = [
        ("Auditor", auditor),
        ("Auditor's firm", auditor_firm or "not stated"),
        ("Independence", independence or "no independence statement was given"),
    ]
    findings = []
    if auditor == DEFAULT_AUDITOR or not independence:
        findings.append(
            Finding(
                "warn",
                "No independent auditor's statement",
                "the report was computed by govledger; it is an independent audit only once an independent "
                "auditor reviews it and gives an independence statement (auditor, auditor_firm, independence)",
            )
        )
    return rows, findings


def _approvals(ledger: Ledger, evidence: Evidence, name: str, version: str) -> list[dict[str, Any]]:
    """The approvals of the model version, read the way the dossier reads them (by model, not promotion)."""
    with ledger.read_snapshot() as conn:
        seqs = approval_seqs(conn, name, version, as_of=evidence.size)
    result = []
    for seq in seqs:
        entry = ledger.get(seq)
        result.append(
            {
                "ref": evidence.cite(seq, f"approval decision on {name}@{version}"),
                "id": entry.data.get("approval_id"),
                "decision": entry.data.get("decision"),
                "by": entry.actor.name,
                "role": entry.data.get("role"),
                "ts": entry.ts,
            }
        )
    return result


def _scoring_context(scoring: ScoringAudit | None) -> dict[str, Any] | None:
    if scoring is None:
        return None
    return {
        "median": scoring.median,
        "scored": scoring.scored,
        "unscored": scoring.unscored,
        "tie_share": scoring.tie_share,
        "tied": scoring.tied,
        "tables": [_table_context(table, title) for table, title in zip(scoring.tables, SCORING_TITLES, strict=True)],
    }


def _ll144_findings(selection: list[DimensionTable], scoring: ScoringAudit | None) -> list[Finding]:
    findings = []
    for table in selection + ([] if scoring is None else scoring.tables):
        kind = "selection" if table in selection else "scoring"
        for row in table.flagged:
            findings.append(
                Finding(
                    "fail",
                    f"{table.dimension}: {row.category} {kind} impact ratio {row.impact_ratio:.3f} (under 0.8)",
                )
            )
        reason = _no_ratio_reason(table)
        if reason:
            findings.append(Finding("insufficient", f"{table.dimension} ({kind}): no impact ratio", reason + "."))
    if scoring is not None and scoring.tied:
        findings.append(
            Finding(
                "insufficient",
                f"Scores too tied for a meaningful median: {scoring.tie_share:.0%} equal the median",
                "the scoring rates count only the scores above the tied value; rely on the selection rates",
            )
        )
    return findings


def build_bias_audit(
    ledger: Ledger,
    evidence: Evidence,
    *,
    name: str,
    version: str,
    since: str,
    until: str,
    auditor: str = DEFAULT_AUDITOR,
    auditor_firm: str | None = None,
    independence: str | None = None,
    law: str | None = None,
    override_reason: str | None = None,
    sex_field: str = "sex",
    race_field: str = "race",
) -> Content:
    """The bias audit the model's declared use calls for: NYC LL144 for employment, a fair-lending
    analysis for credit and housing (see `choose_law`)."""
    start, end = _utc(since, "since"), _utc(until, "until")
    if start >= end:
        raise InvalidInputError(
            f"the audit period is empty: since ({since}) must be before until ({until})",
            [{"loc": ["until"], "msg": "must be after since", "type": "period"}],
        )
    size = evidence.size
    with ledger.read_snapshot() as conn:
        model = model_version(conn, name, version, as_of=size)
        if model is None:
            raise NotFoundError(f"model {name}@{version} is not registered (as of entry {size - 1})")
        registration = ledger.get(model.seq)
        registered = registration.data
        use_domain = registered.get("use_domain")
        chosen = choose_law(f"{name}@{version}", use_domain, law, override_reason)
        rows = decisions_in_period(conn, name, version, since=start, until=end, as_of=size)
        if not rows:
            raise InvalidInputError(
                f"model {name}@{version} recorded no decisions from {since} to {until} "
                f"(as of entry {size - 1}): there is nothing to audit",
                [{"loc": ["since"], "msg": "no decisions in the period", "type": "empty"}],
            )
        decisions = [_read(conn, row, sex_field, race_field) for row in rows]
        erased_subjects = sorted({d.subject_ref for d in decisions if d.unreadable_reason == ERASED})
        erasures = erasure_seqs(conn, erased_subjects, as_of=size)

    model_ctx = {
        "name": name,
        "version": version,
        "artifact_sha256": model.artifact_sha256,
        "owner": registered.get("owner"),
        "description": registered.get("description"),
        "intended_use": registered.get("intended_use"),
        "use_domain": use_domain,
        "registered_at": registration.ts,
        "registered_by": registration.actor.name,
        "ref": evidence.cite(model.seq, "model registration (name, version, owner, declared use)"),
    }
    promotions = []
    for seq in sorted({d.promotion_seq for d in decisions if d.promotion_seq is not None}):
        if seq >= size:
            continue
        promoted = ledger.get(seq)
        promotions.append(
            {
                "ref": evidence.cite(seq, "promotion in force for the audited decisions"),
                "ts": promoted.ts,
                "stage": promoted.data.get("stage", promoted.kind),
                "by": promoted.actor.name,
            }
        )
    first, last = decisions[0], decisions[-1]
    first_ref = evidence.cite(first.seq, "first decision in the audit period")
    last_ref = evidence.cite(last.seq, "last decision in the audit period")
    erasure_refs = [
        evidence.cite(seq, "subject erasure: its decisions count as unknown")
        for seq in sorted(erasures)[:MAX_ERASURES_CITED]
    ]

    whole = Counter(d.unreadable_reason for d in decisions if d.unreadable_reason is not None)
    unknown_reasons = [{"reason": reason, "count": whole[reason]} for reason in (NO_INPUT, ERASED, UNREADABLE)]
    if whole[NOT_AN_OBJECT]:
        unknown_reasons.append({"reason": NOT_AN_OBJECT, "count": whole[NOT_AN_OBJECT]})
    deployers = sorted({d.deployer for d in decisions if d.deployer})

    as_of_time = ledger.get(size - 1).ts
    audit_day = date.fromisoformat(as_of_time[:10])
    cover_rows, findings = _auditor_rows(auditor, auditor_firm, independence)
    override = chosen != DOMAIN_LAW.get(use_domain or "")
    cover_rows = [
        ("Analysis", LAWS[chosen]),
        (
            "Law chosen by",
            f"override: {override_reason}" if override else f"the model's declared use ({use_domain})",
        ),
        *cover_rows,
    ]
    if override:
        findings.append(
            Finding(
                "warn",
                f"Law overridden: {LAWS[chosen]} for a model declared for {use_domain or 'no use'}",
                str(override_reason),
                (model.seq,),
            )
        )
    options = {
        key: value
        for key, value in (
            ("auditor", None if auditor == DEFAULT_AUDITOR else auditor),
            ("auditor_firm", auditor_firm),
            ("independence", independence),
            ("law", chosen if law is not None else None),
            ("override_reason", override_reason if override else None),
            ("sex_field", None if sex_field == "sex" else sex_field),
            ("race_field", None if race_field == "race" else race_field),
        )
        if value is not None
    }
    context: dict[str, Any] = {
        "law": chosen,
        "law_label": LAWS[chosen],
        "cover_rows": cover_rows,
        "model": model_ctx,
        "promotions": promotions,
        "approvals": _approvals(ledger, evidence, name, version),
        "auditor": auditor,
        "auditor_firm": auditor_firm,
        "independence": independence,
        "automated_auditor": auditor == DEFAULT_AUDITOR,
        "override": {"reason": override_reason} if override else None,
        "audit_date": as_of_time,
        "next_audit_due": _add_months(audit_day, 12).isoformat(),
        "period": {"since": since, "until": until},
        "data": {
            "decisions": len(decisions),
            "first": {"ts": first.ts, "ref": first_ref},
            "last": {"ts": last.ts, "ref": last_ref},
            "deployers": deployers,
        },
        "fields": {"sex": sex_field, "race": race_field},
        "assessed": len(decisions),
        "unknown_reasons": unknown_reasons,
        "erasures": {"total": len(erasures), "cited": erasure_refs},
    }
    if chosen == "ll144":
        records = [d.record for d in decisions]
        selection = selection_audit(records)
        scoring = scoring_audit(records)
        readable = [d for d in decisions if d.unreadable_reason is None]
        unknown_reasons += [
            {
                "reason": f"the input does not give {label} (field {field!r})",
                "count": sum(1 for d in readable if getattr(d.record, attribute) is None),
            }
            for label, field, attribute in (("sex", sex_field, "sex"), ("race/ethnicity", race_field, "race"))
        ]
        context["selection"] = [
            _table_context(table, title) for table, title in zip(selection, SELECTION_TITLES, strict=True)
        ]
        for table in context["selection"]:
            table["chart"] = _rate_chart(table)
        context["scoring"] = _scoring_context(scoring)
        findings += _ll144_findings(selection, scoring)
        context["reconciliation"] = _ll144_reconciliation(
            ledger, evidence, model.artifact_sha256, selection, sex_field=sex_field, race_field=race_field
        )
        findings += reconciliation_findings(context["reconciliation"]["rows"], context["reconciliation"]["cites"])
        template = "bias_audit.html.j2"
        outcome = _ll144_outcome(selection, len(decisions))
    else:
        applicants = [Applicant(d.fields, d.record.selected, d.record.score) for d in decisions]
        fair, more = fair_lending_context(
            ledger,
            evidence,
            applicants,
            artifact_sha256=model.artifact_sha256,
            sex_field=sex_field,
            race_field=race_field,
        )
        context["fair"] = fair
        findings += more
        template = "fair_lending.html.j2"
        flagged = [f for f in more if f.severity == "fail"]
        outcome = f"Fair-lending analysis of {len(decisions):,} decisions of {name}@{version}: " + (
            f"{len(flagged)} group{'s' if len(flagged) != 1 else ''} under the 0.8 adverse impact ratio."
            if flagged
            else "no supported group is under the 0.8 adverse impact ratio."
        )
    summary = Findings(tuple(findings))
    context["findings"] = summary
    return Content(
        kind="bias-audit",
        kind_label=LAWS[chosen],
        title=f"{'Fair-lending analysis' if chosen == 'fair-lending' else 'Bias audit'}: {name}@{version}",
        subject=f"model {name}@{version}, decisions {since} to {until}",
        template=template,
        context=context,
        model=(name, version),
        outcome=outcome,
        findings=summary,
        period=f"{since} to {until}",
        options=options,
    )


def _ll144_reconciliation(
    ledger: Ledger,
    evidence: Evidence,
    artifact_sha256: str,
    selection: list[DimensionTable],
    *,
    sex_field: str,
    race_field: str,
) -> dict[str, Any]:
    """The evaluation's impact ratios beside the selection tables' lowest, for the classes whose
    field the evaluation mapped to the audit's sex or race field."""
    source = class_source(ledger, evidence, artifact_sha256, sex_field=sex_field, race_field=race_field)
    by_field = {column: name for name, column in source.columns.items()}
    production: dict[str, tuple[float | None, str | None]] = {}
    for table, field in ((selection[0], sex_field), (selection[1], race_field)):
        if field not in by_field:
            continue
        rated = [r for r in table.rows if r.impact_ratio is not None and not r.reference]
        low = min(rated, key=lambda r: (r.impact_ratio or 0.0, r.category)) if rated else None
        production[by_field[field]] = (None, None) if low is None else (low.impact_ratio, low.category)
    evaluation = source.evaluation
    return {
        "rows": reconciliation(evaluation, production),
        "cites": () if evaluation is None else (int(evaluation["seq"]),),
        "evaluation": None
        if evaluation is None
        else {"id": evaluation["evaluation_id"], "ref": evaluation["ref"], "dataset": evaluation["dataset"]},
    }


def _rate_chart(table: dict[str, Any]) -> str | None:
    rows = [r for r in table["rows"] if not r["excluded"]]
    if table["no_ratio_reason"] or not rows:
        return None
    return bar_chart_svg(
        [r["category"] for r in rows],
        [r["impact_ratio"] for r in rows],
        title=f"Impact ratio: {table['title'].lower()}",
        threshold=0.8,
        xlabel="rate / the reference category's rate",
        id_prefix="ll144-" + re.sub(r"[^a-z0-9]+", "-", table["title"].lower()).strip("-"),
    )


def _ll144_outcome(selection: list[DimensionTable], assessed: int) -> str:
    flagged = sum(len(t.flagged) for t in selection)
    return f"NYC LL144 bias audit of {assessed:,} individuals assessed: " + (
        f"{flagged} selection impact ratio{'s' if flagged != 1 else ''} under 0.8."
        if flagged
        else "no selection impact ratio under 0.8."
    )


CHECKLIST = [
    ChecklistItem("aedt", "AEDT (model)", "6 RCNY 5-303: AEDT name, version, vendor"),
    ChecklistItem("vendor", "Vendor / owner", "6 RCNY 5-303: distribution of the AEDT (vendor)"),
    ChecklistItem("auditor", "Auditor and independence", "NYC LL144 (Admin. Code 20-870): independent auditor"),
    ChecklistItem("audit-date", "Audit date", "6 RCNY 5-303: date of the most recent bias audit"),
    ChecklistItem("data", "Data used", "6 RCNY 5-302: historical vs test data, source, date range"),
    ChecklistItem("pooled", "Employers pooled", "6 RCNY 5-302: historical data of several employers"),
    ChecklistItem("assessed", "Individuals assessed", "6 RCNY 5-303: number of individuals assessed"),
    ChecklistItem("unknown", "Unknown category", "6 RCNY 5-301, 5-303: individuals with an unknown category"),
    ChecklistItem("sex", "Selection rates by sex", "6 RCNY 5-301(b)(1)(i)"),
    ChecklistItem("race", "Selection rates by race/ethnicity", "6 RCNY 5-301(b)(1)(ii)"),
    ChecklistItem("intersectional", "Intersectional selection rates", "6 RCNY 5-301(b)(1)(iii)"),
    ChecklistItem("median", "Median score", "6 RCNY 5-301(c)(1)"),
    ChecklistItem("scoring", "Scoring rates", "6 RCNY 5-301(c)(2)-(3)"),
    ChecklistItem("exclusions", "Categories under 2%", "6 RCNY 5-301(d)"),
    ChecklistItem("four-fifths", "Four-fifths flags", "29 CFR 1607.4(D)"),
    ChecklistItem("significance", "Statistical significance", "29 CFR 1607.4(D)"),
    ChecklistItem("summary", "Summary for publication", "6 RCNY 5-303"),
    ChecklistItem("distribution", "Distribution date", "6 RCNY 5-303"),
    ChecklistItem("next-audit", "Next audit due", "NYC LL144: a bias audit no more than one year before use"),
    ChecklistItem("personal-data", "No personal data", "GDPR Art. 17; aggregates are kept after erasure"),
    ChecklistItem("instructions", "How to verify", "integrity: verification instructions"),
]

FAIR_LENDING_CHECKLIST = [
    ChecklistItem("model", "Declared use", "the model, its declared use and why this analysis applies"),
    ChecklistItem("analyst", "Independence statement", "analyst, firm and independence (report.issued options)"),
    ChecklistItem("data", "Decisions analysed", "logged decisions, period, approved = not adverse"),
    ChecklistItem("classes", "Protected classes", "the classes and fields, from the evaluation's mapping"),
    ChecklistItem("control", "Control group", "ECOA disparate impact: comparison with the control group"),
    ChecklistItem("air", "Approval rates and adverse impact ratios", "approval-rate ratio per group, 0.8 screen"),
    ChecklistItem("interval", "95% interval", "interval of the ratio (Katz log)"),
    ChecklistItem("significance", "Fisher's exact test", "significance of each group's difference"),
    ChecklistItem("smd", "standardized mean difference", "score difference between groups"),
    ChecklistItem("unsupported", "could not support", "classes and groups the data could not support"),
    ChecklistItem("reconcile", "Evaluation and production side by side", "numbers agree across reports"),
    ChecklistItem("personal-data", "No personal data", "GDPR Art. 17; aggregates are kept after erasure"),
]
