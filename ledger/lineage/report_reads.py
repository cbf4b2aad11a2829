"""Issued reports (`report.issued`) as the `reports` projection records them: is a PDF with this
SHA-256 issued, and which report of a kind came last.

Why here: the table belongs to the ledger, so `reports` asks these functions and never builds
SQL. Each answer is the `seq` of the entry, so the caller reads the entry itself (the log, not
the projection, is what a check rests on).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from ledger.lineage import tables as t

__all__ = ["issued_report_seq", "latest_report_seq", "reports_about_model"]


def issued_report_seq(conn: Connection, pdf_sha256: str) -> int | None:
    """The entry that issued the report whose PDF has this SHA-256 (lower-case hex), or None."""
    return conn.execute(select(t.reports.c.seq).where(t.reports.c.pdf_sha256 == pdf_sha256)).scalar()


def latest_report_seq(conn: Connection, report_kind: str, *, before: int) -> int | None:
    """The newest report of this kind issued by an entry before `before`, or None."""
    r = t.reports
    return conn.execute(
        select(r.c.seq).where(r.c.report_kind == report_kind, r.c.seq < before).order_by(r.c.seq.desc()).limit(1)
    ).scalar()


def reports_about_model(conn: Connection, name: str, version: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Reports issued about one model version (its dossier, its bias audits), newest first: the
    builders name the subject "model NAME@VERSION" (a bias audit adds its period after a comma)."""
    r = t.reports
    subject = f"model {name}@{version}"
    rows = conn.execute(
        select(r.c.seq, r.c.report_kind, r.c.subject, r.c.ts, r.c.pdf_sha256)
        .where(or_(r.c.subject == subject, r.c.subject.startswith(subject + ", ", autoescape=True)))
        .order_by(r.c.seq.desc())
        .limit(limit)
    ).all()
    return [dict(row._mapping) for row in rows]
