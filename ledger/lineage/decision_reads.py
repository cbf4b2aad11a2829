"""The decisions one model version logged, their human reviews, and the erasures that hide their
inputs: the aggregate and period reads the reports make over the decision projections.

Why here: the tables belong to the ledger, so `reports` asks these functions and never builds
SQL. `as_of` (a log size) ignores rows whose entry is at or beyond it, so a report reads one log
state while the log grows. Times are the log's fixed-width UTC form (`ledger.log.entry.format_ts`),
which compares as text. The paginated lists the HTTP API serves are in `ledger.lineage.queries`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, literal_column, select

from ledger.lineage import tables as t
from ledger.log.entry import Entry, entry_from_row
from ledger.storage.db import rows_matching
from ledger.storage.tables import entries

__all__ = [
    "AppealRow",
    "MonthOfDecisions",
    "PeriodDecision",
    "ReviewCoverage",
    "ReviewOutcome",
    "appeals_of_model",
    "decisions_by_month",
    "decisions_in_period",
    "erasure_seqs",
    "recorded_decisions",
    "review_coverage",
    "review_outcomes",
]

ERASURE_CHUNK = 500  # subject references per IN (...) list


@dataclass(frozen=True)
class MonthOfDecisions:
    month: str  # YYYY-MM
    count: int
    adverse: int
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class ReviewOutcome:
    seq: int  # the `decision.reviewed` entry
    outcome: str


@dataclass(frozen=True)
class ReviewCoverage:
    """How many decisions (and adverse ones) a version logged, and how many of each a person reviewed."""

    decisions: int
    adverse: int
    reviewed: int  # distinct decisions with at least one review
    adverse_reviewed: int


@dataclass(frozen=True)
class AppealRow:
    seq: int  # the `decision.appealed` entry
    appeal_id: str
    decision_id: str
    review_seqs: tuple[int, ...]  # reviews of the same decision recorded after the appeal


@dataclass(frozen=True)
class PeriodDecision:
    """A logged decision with its entry (read in the same query)."""

    seq: int
    decision_id: str
    subject_ref: str
    adverse: bool
    ts: str
    entry: Entry


def recorded_decisions(conn: Connection, decision_ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """{decision_id: (seq, recorded data)} of the ids already in the log (usually none); one query
    for the ids however many, one more for their entries if any is found."""
    recorded = dict(rows_matching(conn, t.decisions, ["decision_id", "seq"], "decision_id", decision_ids))
    if not recorded:
        return {}
    bodies = conn.execute(select(entries.c.seq, entries.c.body).where(entries.c.seq.in_(list(recorded.values()))))
    data = {seq: json.loads(bytes(body).decode("utf-8"))["data"] for seq, body in bodies}
    return {decision_id: (seq, data[seq]) for decision_id, seq in recorded.items()}


def decisions_by_month(conn: Connection, name: str, version: str, *, as_of: int) -> list[MonthOfDecisions]:
    """How many decisions (and adverse ones) a model version logged each month, oldest month first,
    with the first and last entry of each month."""
    d = t.decisions
    month = func.substr(d.c.ts, literal_column("1"), literal_column("7"))  # same SQL text in GROUP BY (PG)
    adverse = func.sum(case((d.c.adverse.is_(True), 1), else_=0))
    rows = conn.execute(
        select(month.label("month"), func.count(), adverse, func.min(d.c.seq), func.max(d.c.seq))
        .where(d.c.name == name, d.c.version == version, d.c.seq < as_of)
        .group_by(month)
        .order_by(month)
    ).all()
    return [MonthOfDecisions(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


def review_outcomes(conn: Connection, name: str, version: str, *, as_of: int) -> list[ReviewOutcome]:
    """The human reviews of the decisions a model version logged, oldest first."""
    d, r = t.decisions, t.reviews
    rows = conn.execute(
        select(r.c.seq, r.c.outcome)
        .join(d, d.c.decision_id == r.c.decision_id)
        .where(d.c.name == name, d.c.version == version, r.c.seq < as_of)
        .order_by(r.c.seq)
    ).all()
    return [ReviewOutcome(row.seq, row.outcome) for row in rows]


def review_coverage(conn: Connection, name: str, version: str, *, as_of: int) -> ReviewCoverage:
    """Decisions of a version and the share a person reviewed: what a dossier compares with the
    review the intended use promises (`human_oversight`)."""
    d, r = t.decisions, t.reviews
    reviewed = select(r.c.decision_id).where(r.c.seq < as_of).distinct().subquery()
    is_reviewed = reviewed.c.decision_id.is_not(None)
    row = conn.execute(
        select(
            func.count(),
            func.sum(case((d.c.adverse.is_(True), 1), else_=0)),
            func.sum(case((is_reviewed, 1), else_=0)),
            func.sum(case((is_reviewed & d.c.adverse.is_(True), 1), else_=0)),
        )
        .select_from(d.outerjoin(reviewed, reviewed.c.decision_id == d.c.decision_id))
        .where(d.c.name == name, d.c.version == version, d.c.seq < as_of)
    ).one()
    return ReviewCoverage(*(int(v or 0) for v in row))


def appeals_of_model(conn: Connection, name: str, version: str, *, as_of: int) -> list[AppealRow]:
    """The appeals against a version's decisions, oldest first, each with the reviews of the same
    decision recorded after it (the report reads them to see which answers the appeal)."""
    d, a, r = t.decisions, t.appeals, t.reviews
    appeals = conn.execute(
        select(a.c.seq, a.c.appeal_id, a.c.decision_id)
        .join(d, d.c.decision_id == a.c.decision_id)
        .where(d.c.name == name, d.c.version == version, a.c.seq < as_of)
        .order_by(a.c.seq)
    ).all()
    found = []
    for appeal in appeals:
        later = conn.execute(
            select(r.c.seq)
            .where(r.c.decision_id == appeal.decision_id, r.c.seq > appeal.seq, r.c.seq < as_of)
            .order_by(r.c.seq)
        ).scalars()
        found.append(AppealRow(appeal.seq, appeal.appeal_id, appeal.decision_id, tuple(later)))
    return found


def decisions_in_period(
    conn: Connection, name: str, version: str, *, since: str, until: str, as_of: int
) -> list[PeriodDecision]:
    """The decisions a model version logged from `since` (inclusive) to `until` (exclusive), in
    log order, each with its entry."""
    d = t.decisions
    rows = conn.execute(
        select(d.c.seq, d.c.decision_id, d.c.subject_ref, d.c.adverse, d.c.ts, entries.c.body, entries.c.leaf_hash)
        .join(entries, entries.c.seq == d.c.seq)
        .where(d.c.name == name, d.c.version == version, d.c.ts >= since, d.c.ts < until, d.c.seq < as_of)
        .order_by(d.c.seq)
    ).all()
    return [
        PeriodDecision(
            seq=row.seq,
            decision_id=row.decision_id,
            subject_ref=row.subject_ref,
            adverse=bool(row.adverse),
            ts=row.ts,
            entry=entry_from_row(row.seq, bytes(row.body), bytes(row.leaf_hash)),
        )
        for row in rows
    ]


def erasure_seqs(conn: Connection, subject_refs: Sequence[str], *, as_of: int) -> list[int]:
    """The `subject.erased` entries of these subjects (in no particular order)."""
    found: list[int] = []
    for start in range(0, len(subject_refs), ERASURE_CHUNK):
        chunk = list(subject_refs[start : start + ERASURE_CHUNK])
        found += conn.execute(
            select(t.erasures.c.seq).where(t.erasures.c.subject_ref.in_(chunk), t.erasures.c.seq < as_of)
        ).scalars()
    return found
