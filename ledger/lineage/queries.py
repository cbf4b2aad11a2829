"""Read queries over the projections, each row joined to the entry that proves it.

Lists use keyset (cursor) pagination on the entry's sequence number: stable under concurrent
appends, and O(page) whatever the offset. Every item carries `seq` and the entry's payload, so a
client can fetch the inclusion proof of anything it was shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, select

from ledger.errors import NotFoundError
from ledger.lineage import tables as t
from ledger.schema import entries

__all__ = [
    "MAX_PAGE",
    "Page",
    "get_dataset",
    "get_decision",
    "get_model",
    "get_run",
    "list_approvals",
    "list_datasets",
    "list_decisions",
    "list_models",
]

MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_after: int | None  # pass back as `after` for the next page

    def as_json(self) -> dict[str, Any]:
        return {"items": self.items, "next_after": self.next_after}


def _with_entry(table: Table, *conditions: Any) -> Select[Any]:
    return (
        select(table, entries.c.body, entries.c.ts.label("entry_ts"))
        .join(entries, entries.c.seq == table.c.seq)
        .where(and_(True, *conditions))
    )


def _item(row: Any, table: Table) -> dict[str, Any]:
    item = {column.name: row._mapping[column.name] for column in table.columns}
    envelope = json.loads(bytes(row._mapping["body"]).decode("utf-8"))
    item["recorded_at"] = row._mapping["entry_ts"]
    item["recorded_by"] = envelope["actor"]
    item["data"] = envelope["data"]
    return item


def _page(conn: Connection, table: Table, conditions: list[Any], after: int | None, limit: int) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    if after is not None:
        conditions = [*conditions, table.c.seq > after]
    rows = conn.execute(_with_entry(table, *conditions).order_by(table.c.seq).limit(limit + 1)).all()
    items = [_item(row, table) for row in rows[:limit]]
    return Page(items, items[-1]["seq"] if len(rows) > limit else None)


def _one(conn: Connection, table: Table, what: str, *conditions: Any) -> dict[str, Any]:
    row = conn.execute(_with_entry(table, *conditions)).first()
    if row is None:
        raise NotFoundError(f"{what} does not exist")
    return _item(row, table)


def list_datasets(conn: Connection, *, after: int | None = None, limit: int = 100) -> Page:
    return _page(conn, t.datasets, [], after, limit)


def get_dataset(conn: Connection, dataset_id: str) -> dict[str, Any]:
    item = _one(conn, t.datasets, f"dataset {dataset_id!r}", t.datasets.c.dataset_id == dataset_id)
    item["sensitive_attributes"] = json.loads(item["sensitive_attributes"])
    return item


def get_run(conn: Connection, run_id: str) -> dict[str, Any]:
    return _one(conn, t.runs, f"training run {run_id!r}", t.runs.c.run_id == run_id)


def list_models(
    conn: Connection, *, name: str | None = None, stage: str | None = None, after: int | None = None, limit: int = 100
) -> Page:
    conditions = []
    if name is not None:
        conditions.append(t.models.c.name == name)
    if stage is not None:
        conditions.append(t.models.c.stage == stage)
    return _page(conn, t.models, conditions, after, limit)


def get_model(conn: Connection, name: str, version: str) -> dict[str, Any]:
    return _one(conn, t.models, f"model {name}@{version}", t.models.c.name == name, t.models.c.version == version)


def list_approvals(
    conn: Connection, *, name: str | None = None, version: str | None = None, after: int | None = None, limit: int = 100
) -> Page:
    conditions = []
    if name is not None:
        conditions.append(t.approvals.c.name == name)
    if version is not None:
        conditions.append(t.approvals.c.version == version)
    return _page(conn, t.approvals, conditions, after, limit)


def list_decisions(
    conn: Connection,
    *,
    model: tuple[str, str | None] | None = None,
    subject_ref: str | None = None,
    outcome: str | None = None,
    adverse: bool | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    d = t.decisions
    conditions: list[Any] = []
    if model is not None:
        conditions.append(d.c.name == model[0])
        if model[1] is not None:
            conditions.append(d.c.version == model[1])
    if subject_ref is not None:
        conditions.append(d.c.subject_ref == subject_ref)
    if outcome is not None:
        conditions.append(d.c.outcome == outcome)
    if adverse is not None:
        conditions.append(d.c.adverse == adverse)
    if since is not None:
        conditions.append(d.c.ts >= since)
    if until is not None:
        conditions.append(d.c.ts < until)
    return _page(conn, d, conditions, after, limit)


def get_decision(conn: Connection, decision_id: str) -> dict[str, Any]:
    return _one(conn, t.decisions, f"decision {decision_id!r}", t.decisions.c.decision_id == decision_id)
