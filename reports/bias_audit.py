"""Bias audit of an automated employment decision tool in the form NYC Local Law 144 requires
(6 RCNY 5-300 to 5-304), with the four-fifths flags of the EEOC Uniform Guidelines.

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
from ledger.errors import InvalidInputError, NotFoundError, PrivacyError
from ledger.lineage.decision_reads import PeriodDecision, decisions_in_period, erasure_seqs
from ledger.lineage.registry_reads import model_version
from ledger.log.entry import UTC_PATTERN, format_ts
from ledger.privacy.sealing import ErasedInput, read_decision_input
from ledger.storage.db import Connection
from reports.bias_audit_data import AuditRecord, DimensionTable, scoring_audit, selection_audit
from reports.checklist import ChecklistItem
from reports.document import Content
from reports.evidence import Evidence

__all__ = ["CHECKLIST", "DEFAULT_AUDITOR", "build_bias_audit"]

DEFAULT_AUDITOR = "govledger (automated; not an independent auditor)"
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


def build_bias_audit(
    ledger: Ledger,
    evidence: Evidence,
    *,
    name: str,
    version: str,
    since: str,
    until: str,
    auditor: str = DEFAULT_AUDITOR,
    sex_field: str = "sex",
    race_field: str = "race",
) -> Content:
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

    registration = ledger.get(model.seq)
    registered = registration.data
    model_ctx = {
        "name": name,
        "version": version,
        "artifact_sha256": model.artifact_sha256,
        "owner": registered.get("owner"),
        "description": registered.get("description"),
        "intended_use": registered.get("intended_use"),
        "registered_at": registration.ts,
        "registered_by": registration.actor.name,
        "ref": evidence.cite(model.seq, "model registration (name, version, owner)"),
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
                "approval_ids": ", ".join(promoted.data.get("approval_ids") or []) or "none recorded",
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

    records = [d.record for d in decisions]
    selection = selection_audit(records)
    scoring = scoring_audit(records)
    whole = Counter(d.unreadable_reason for d in decisions if d.unreadable_reason is not None)
    readable = [d for d in decisions if d.unreadable_reason is None]
    unknown_reasons = [{"reason": reason, "count": whole[reason]} for reason in (NO_INPUT, ERASED, UNREADABLE)]
    if whole[NOT_AN_OBJECT]:
        unknown_reasons.append({"reason": NOT_AN_OBJECT, "count": whole[NOT_AN_OBJECT]})
    unknown_reasons += [
        {
            "reason": f"the input does not give {label} (field {field!r})",
            "count": sum(1 for d in readable if getattr(d.record, attribute) is None),
        }
        for label, field, attribute in (("sex", sex_field, "sex"), ("race/ethnicity", race_field, "race"))
    ]
    deployers = sorted({d.deployer for d in decisions if d.deployer})

    as_of_time = ledger.get(size - 1).ts
    audit_day = date.fromisoformat(as_of_time[:10])
    context = {
        "model": model_ctx,
        "promotions": promotions,
        "auditor": auditor,
        "automated_auditor": auditor == DEFAULT_AUDITOR,
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
        "selection": [_table_context(table, title) for table, title in zip(selection, SELECTION_TITLES, strict=True)],
        "scoring": None
        if scoring is None
        else {
            "median": scoring.median,
            "scored": scoring.scored,
            "unscored": scoring.unscored,
            "tables": [
                _table_context(table, title) for table, title in zip(scoring.tables, SCORING_TITLES, strict=True)
            ],
        },
    }
    return Content(
        kind="bias-audit",
        kind_label="Bias audit (NYC Local Law 144)",
        title=f"Bias audit: {name}@{version}",
        subject=f"model {name}@{version}, decisions {since} to {until}",
        template="bias_audit.html.j2",
        context=context,
        model=(name, version),
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
