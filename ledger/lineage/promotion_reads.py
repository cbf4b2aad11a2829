"""A model version's promotion history: the promotions that went through (`model.promoted`, in
`lineage_stage_changes`) and the attempts the gate refused (`promotion.refused`, in
`lineage_promotion_refusals`), in log order, each with the entry that records it.

Why here: the HTTP history (`GET /v1/models/{name}/{version}/promotions`), the model dossier and
the decision trace read the same two tables, and `reports` never builds SQL. Retirements are
stage changes but not promotions, so the history leaves them out (the model record's stage says
when a version was retired).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, literal, select, union_all

from ledger.errors import NotFoundError
from ledger.kinds.spec import TraceItem
from ledger.lineage import tables as t
from ledger.lineage.queries import MAX_PAGE, Page
from ledger.storage.db import before_log_size
from ledger.storage.tables import entries

__all__ = ["RefusedPromotion", "promotion_history", "refused_before_decision", "refused_promotions"]


@dataclass(frozen=True)
class RefusedPromotion:
    """A `promotion.refused` entry of one model version: which stage was asked for."""

    seq: int
    stage: str


def promotion_history(conn: Connection, name: str, version: str, *, after: int | None = None, limit: int = 100) -> Page:
    """The promotions of one model version and the refused attempts, oldest first, each item with
    `outcome` (promoted or refused), the stage asked for, and the entry (`recorded_by` is who asked).
    404 if the version is not registered."""
    m, s, r = t.models, t.stage_changes, t.promotion_refusals
    if conn.execute(select(m.c.seq).where(m.c.name == name, m.c.version == version)).first() is None:
        raise NotFoundError(f"model {name}@{version} does not exist")
    promoted = select(s.c.seq, s.c.stage, literal("promoted").label("outcome")).where(
        s.c.name == name, s.c.version == version, s.c.stage != "retired"
    )
    refused = select(r.c.seq, r.c.stage, literal("refused").label("outcome")).where(
        r.c.name == name, r.c.version == version
    )
    attempts = union_all(promoted, refused).subquery("promotion_attempts")
    query = select(attempts, entries.c.body, entries.c.ts.label("entry_ts")).join(
        entries, entries.c.seq == attempts.c.seq
    )
    if after is not None:
        query = query.where(attempts.c.seq > after)
    limit = max(1, min(limit, MAX_PAGE))
    rows = conn.execute(query.order_by(attempts.c.seq).limit(limit + 1)).all()
    items = [_attempt(row, name, version) for row in rows[:limit]]
    return Page(items, items[-1]["seq"] if len(rows) > limit else None)


def _attempt(row: Any, name: str, version: str) -> dict[str, Any]:
    envelope = json.loads(bytes(row.body).decode("utf-8"))
    return {
        "seq": row.seq,
        "name": name,
        "version": version,
        "stage": row.stage,
        "outcome": row.outcome,
        "recorded_at": row.entry_ts,
        "recorded_by": envelope["actor"],
        "data": envelope["data"],
    }


def refused_promotions(
    conn: Connection, name: str, version: str, *, as_of: int | None = None
) -> list[RefusedPromotion]:
    """The refused promotion attempts of one model version, oldest first."""
    r = t.promotion_refusals
    query = select(r.c.seq, r.c.stage).where(r.c.name == name, r.c.version == version, *before_log_size(r.c.seq, as_of))
    return [RefusedPromotion(row.seq, row.stage) for row in conn.execute(query.order_by(r.c.seq))]


def refused_before_decision(conn: Connection, decision_id: str, decision_seq: int) -> list[TraceItem]:
    """The trace collector of `promotion.refused`: the refused promotions of the decision's model
    version recorded before the decision, with who asked and why (convenience attributes; the
    evidence is the entry the trace's pack proves)."""
    d, r = t.decisions, t.promotion_refusals
    rows = conn.execute(
        select(r.c.seq, r.c.stage, entries.c.ts, entries.c.body)
        .join(entries, entries.c.seq == r.c.seq)
        .join(d, (d.c.name == r.c.name) & (d.c.version == r.c.version))
        .where(d.c.decision_id == decision_id, r.c.seq < decision_seq)
        .order_by(r.c.seq)
    ).all()
    return [_trace_item(row) for row in rows]


def _trace_item(row: Any) -> TraceItem:
    envelope = json.loads(bytes(row.body).decode("utf-8"))
    data = envelope["data"]
    evaluation = data.get("evaluation") or {}
    attributes = {
        "stage": row.stage,
        "actor_id": envelope["actor"]["id"],
        "policy_sha256": data["policy"]["sha256"],
        "evaluation_id": evaluation.get("evaluation_id"),
        "failed_rules": data["failed_rules"],
        "insufficient_rules": data["insufficient_rules"],
    }
    return TraceItem(row.seq, row.ts, attributes)
