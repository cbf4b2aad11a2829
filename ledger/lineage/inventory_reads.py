"""The model inventory and the approval queue: what the web console asks of the projections.

Why here: the console (a package above `ledger`) builds no SQL; these questions are asked of the
ledger's projection tables, so they live beside them. Both are paged, and each page costs a
bounded number of indexed queries whatever the size of the log: the page of model versions
first, then one small query per version on the page (latest evaluation, approvals, decisions),
each served by an index on (name, version, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Connection, and_, func, select

from ledger.lineage import tables as t
from ledger.storage.store import fetch_entry_data

__all__ = ["InventoryPage", "InventoryRow", "InventorySort", "approval_queue", "inventory_page", "inventory_row"]

InventorySort = Literal["name", "newest", "stage"]


@dataclass(frozen=True)
class InventoryRow:
    """One model version as the inventory lists it."""

    name: str
    version: str
    seq: int
    stage: str
    intended_use: str | None
    use_domain: str | None
    risk_tier: str | None
    owner: str | None
    evaluation_id: str | None
    evaluation_seq: int | None
    verdict: str | None  # passed | blocked | insufficient_evidence; None: never evaluated
    policy: str | None  # "name vversion" of the evaluation's policy
    approvals: int  # approvals ("approve") recorded for this version
    approvals_required: int | None  # by the policy of the latest evaluation
    last_decision_ts: str | None
    recent_decisions: int  # decisions recorded at or after `recent_since`


@dataclass(frozen=True)
class InventoryPage:
    rows: list[InventoryRow]
    total: int  # model versions matching the filter (all pages)
    offset: int
    limit: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def inventory_page(
    conn: Connection,
    *,
    recent_since: str,
    name_contains: str | None = None,
    stage: str | None = None,
    sort: InventorySort = "name",
    offset: int = 0,
    limit: int = 50,
) -> InventoryPage:
    """One page of model versions, with what a reviewer needs to see at a glance."""
    m = t.models
    conditions: list[ColumnElement[bool]] = []
    if name_contains:
        conditions.append(m.c.name.like(f"%{_escape_like(name_contains)}%", escape="\\"))
    if stage:
        conditions.append(m.c.stage == stage)
    total = conn.execute(select(func.count()).select_from(m).where(*conditions)).scalar_one()
    order = {
        "name": (m.c.name, m.c.version),
        "newest": (m.c.seq.desc(),),
        "stage": (m.c.stage, m.c.name, m.c.version),
    }[sort]
    page = conn.execute(
        select(m.c.name, m.c.version, m.c.seq, m.c.stage)
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    return InventoryPage(
        [_row(conn, r.name, r.version, r.seq, r.stage, recent_since) for r in page], total, offset, limit
    )


def inventory_row(conn: Connection, name: str, version: str, *, recent_since: str) -> InventoryRow | None:
    """One model version as the inventory lists it, or None if it is not registered."""
    m = t.models
    found = conn.execute(select(m.c.seq, m.c.stage).where(m.c.name == name, m.c.version == version)).first()
    return None if found is None else _row(conn, name, version, found.seq, found.stage, recent_since)


def _row(conn: Connection, name: str, version: str, seq: int, stage: str, recent_since: str) -> InventoryRow:
    e, p, a, d = t.evaluations, t.policies, t.approvals, t.decisions
    registered = fetch_entry_data(conn, seq)
    latest = conn.execute(
        select(e.c.evaluation_id, e.c.seq, e.c.verdict, p.c.name, p.c.version, p.c.approvals_required)
        .join(p, p.c.sha256 == e.c.policy_sha256, isouter=True)
        .where(e.c.name == name, e.c.version == version)
        .order_by(e.c.seq.desc())
        .limit(1)
    ).first()
    approvals = conn.execute(
        select(func.count()).where(a.c.name == name, a.c.version == version, a.c.decision == "approve")
    ).scalar_one()
    last = conn.execute(
        select(d.c.ts).where(d.c.name == name, d.c.version == version).order_by(d.c.seq.desc()).limit(1)
    ).scalar_one_or_none()
    recent = conn.execute(
        select(func.count()).where(d.c.name == name, d.c.version == version, d.c.ts >= recent_since)
    ).scalar_one()
    return InventoryRow(
        name=name,
        version=version,
        seq=seq,
        stage=stage,
        intended_use=registered.get("intended_use"),
        use_domain=registered.get("use_domain"),
        risk_tier=registered.get("risk_tier"),
        owner=registered.get("owner"),
        evaluation_id=latest.evaluation_id if latest else None,
        evaluation_seq=latest.seq if latest else None,
        verdict=latest.verdict if latest else None,
        policy=f"{latest.name} v{latest.version}" if latest and latest.name else None,
        approvals=int(approvals),
        approvals_required=int(latest.approvals_required) if latest and latest.approvals_required is not None else None,
        last_decision_ts=last,
        recent_decisions=int(recent),
    )


def approval_queue(conn: Connection, *, recent_since: str, limit: int = 200) -> list[InventoryRow]:
    """Versions whose latest evaluation passed, that are not retired, and that have fewer approvals
    than that evaluation's policy requires (at least one): what a risk officer has to look at next."""
    e, p, a, m = t.evaluations, t.policies, t.approvals, t.models
    latest = select(e.c.name, e.c.version, func.max(e.c.seq).label("seq")).group_by(e.c.name, e.c.version).subquery()
    approved = (
        select(a.c.name, a.c.version, func.count().label("n"))
        .where(a.c.decision == "approve")
        .group_by(a.c.name, a.c.version)
        .subquery()
    )
    rows = conn.execute(
        select(m.c.name, m.c.version, m.c.seq, m.c.stage)
        .join(latest, and_(latest.c.name == m.c.name, latest.c.version == m.c.version))
        .join(e, e.c.seq == latest.c.seq)
        .join(p, p.c.sha256 == e.c.policy_sha256)
        .join(approved, and_(approved.c.name == m.c.name, approved.c.version == m.c.version), isouter=True)
        .where(
            e.c.verdict == "passed",
            m.c.stage != "retired",
            # fewer than the policy requires, and never none at all: a policy that requires no
            # approval still leaves a version nobody has looked at in the queue
            func.coalesce(approved.c.n, 0) < func.max(p.c.approvals_required, 1)
            if conn.dialect.name == "sqlite"
            else func.coalesce(approved.c.n, 0) < func.greatest(p.c.approvals_required, 1),
        )
        .order_by(e.c.seq)
        .limit(limit)
    ).all()
    return [_row(conn, r.name, r.version, r.seq, r.stage, recent_since) for r in rows]
