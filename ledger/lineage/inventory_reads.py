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

from sqlalchemy import ColumnElement, Connection, String, and_, bindparam, func, select

from ledger.lineage import tables as t
from ledger.lineage.queries import first_seq_at
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
    recent_from = first_seq_at(conn, recent_since)
    return InventoryPage(
        [_row(conn, r.name, r.version, r.seq, r.stage, recent_from) for r in page], total, offset, limit
    )


def inventory_row(conn: Connection, name: str, version: str, *, recent_since: str) -> InventoryRow | None:
    """One model version as the inventory lists it, or None if it is not registered."""
    m = t.models
    found = conn.execute(select(m.c.seq, m.c.stage).where(m.c.name == name, m.c.version == version)).first()
    return (
        None if found is None else _row(conn, name, version, found.seq, found.stage, first_seq_at(conn, recent_since))
    )


# Built once: a page runs each of these 50 times, and building the statements cost more than
# running them (SQLAlchemy's expression construction, measured with cProfile).
_e, _p, _a, _d = t.evaluations, t.policies, t.approvals, t.decisions
_NAME, _VERSION = bindparam("name", type_=String), bindparam("version", type_=String)
_LATEST_EVALUATION = (
    select(_e.c.evaluation_id, _e.c.seq, _e.c.verdict, _p.c.name, _p.c.version, _p.c.approvals_required)
    .join(_p, _p.c.sha256 == _e.c.policy_sha256, isouter=True)
    .where(_e.c.name == _NAME, _e.c.version == _VERSION)
    .order_by(_e.c.seq.desc())
    .limit(1)
)
_APPROVALS = select(func.count()).where(_a.c.name == _NAME, _a.c.version == _VERSION, _a.c.decision == "approve")
_LAST_DECISION = select(_d.c.ts).where(_d.c.name == _NAME, _d.c.version == _VERSION).order_by(_d.c.seq.desc()).limit(1)
_RECENT = select(func.count()).where(_d.c.name == _NAME, _d.c.version == _VERSION, _d.c.seq >= bindparam("since_seq"))


def _row(conn: Connection, name: str, version: str, seq: int, stage: str, recent_from: int) -> InventoryRow:
    """`recent_from`: the first sequence number of the recent period. Counting decisions by
    sequence number reads only the (name, version, seq) index, where a filter on their time would
    read every decision row of the model (entry times never decrease along the log)."""
    params = {"name": name, "version": version}
    registered = fetch_entry_data(conn, seq)
    latest = conn.execute(_LATEST_EVALUATION, params).first()
    approvals = conn.execute(_APPROVALS, params).scalar_one()
    last = conn.execute(_LAST_DECISION, params).scalar_one_or_none()
    recent = conn.execute(_RECENT, {**params, "since_seq": recent_from}).scalar_one()
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
    recent_from = first_seq_at(conn, recent_since)
    return [_row(conn, r.name, r.version, r.seq, r.stage, recent_from) for r in rows]
