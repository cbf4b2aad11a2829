"""Read queries over the projections, each row joined to the entry that proves it.

Lists use keyset (cursor) pagination on the entry's sequence number, oldest first: stable under
concurrent appends, and O(page) whatever the offset. Every item carries `seq` and the entry's
payload, so a client can fetch the inclusion proof of anything it was shown.

Time ranges (`since` inclusive, `until` exclusive, in the log's fixed-width UTC form, see
`ledger.log.entry.format_ts`) are on the time the entry was recorded: the projection's own indexed
`ts` column where it has one (decisions), else the joined entry's `ts`. The log itself
(`list_entries`) turns a time range into a range of sequence numbers first (`first_seq_at`), so
it reads the primary key only, never the unindexed `entries.ts` from the start of the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, select

from ledger.errors import NotFoundError
from ledger.lineage import tables as t
from ledger.log.entry import entry_from_row, stored_data_json
from ledger.storage import store
from ledger.storage.tables import entries

__all__ = [
    "MAX_PAGE",
    "Page",
    "first_seq_at",
    "get_approval",
    "get_dataset",
    "get_decision",
    "get_model",
    "get_run",
    "list_approvals",
    "list_datasets",
    "list_decisions",
    "list_entries",
    "list_models",
    "list_reviews",
    "list_runs",
]

MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_after: int | None  # pass back as `after` for the next page (the wire form is `ledger.wire.Page`)


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
    # the stored bytes of `data`, for answers that must not re-encode it (ledger.service.stored_json)
    item["data_json"] = stored_data_json(bytes(row._mapping["body"]), envelope)
    return item


def _page(conn: Connection, table: Table, conditions: list[Any], after: int | None, limit: int) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    if after is not None:
        conditions = [*conditions, table.c.seq > after]
    rows = conn.execute(_with_entry(table, *conditions).order_by(table.c.seq).limit(limit + 1)).all()
    items = [_item(row, table) for row in rows[:limit]]
    return Page(items, items[-1]["seq"] if len(rows) > limit else None)


def _recorded(since: str | None, until: str | None) -> list[Any]:
    """Conditions on the joined entry's time (for projections without a `ts` column of their own)."""
    conditions = []
    if since is not None:
        conditions.append(entries.c.ts >= since)
    if until is not None:
        conditions.append(entries.c.ts < until)
    return conditions


def _one(conn: Connection, table: Table, what: str, *conditions: Any) -> dict[str, Any]:
    row = conn.execute(_with_entry(table, *conditions)).first()
    if row is None:
        raise NotFoundError(f"{what} does not exist")
    return _item(row, table)


def list_datasets(
    conn: Connection,
    *,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    return _page(conn, t.datasets, _recorded(since, until), after, limit)


def get_dataset(conn: Connection, dataset_id: str) -> dict[str, Any]:
    item = _one(conn, t.datasets, f"dataset {dataset_id!r}", t.datasets.c.dataset_id == dataset_id)
    item["sensitive_attributes"] = json.loads(item["sensitive_attributes"])
    return item


def get_run(conn: Connection, run_id: str) -> dict[str, Any]:
    return _one(conn, t.runs, f"training run {run_id!r}", t.runs.c.run_id == run_id)


def list_runs(
    conn: Connection,
    *,
    input_dataset: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    """Training runs, optionally only those that read `input_dataset` (through the indexed
    `run_inputs.dataset_id`)."""
    conditions = _recorded(since, until)
    if input_dataset is not None:
        used = select(t.run_inputs.c.run_id).where(t.run_inputs.c.dataset_id == input_dataset)
        conditions.append(t.runs.c.run_id.in_(used))
    return _page(conn, t.runs, conditions, after, limit)


def list_models(
    conn: Connection,
    *,
    name: str | None = None,
    stage: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    conditions = _recorded(since, until)
    if name is not None:
        conditions.append(t.models.c.name == name)
    if stage is not None:
        conditions.append(t.models.c.stage == stage)
    return _page(conn, t.models, conditions, after, limit)


def get_model(conn: Connection, name: str, version: str) -> dict[str, Any]:
    return _one(conn, t.models, f"model {name}@{version}", t.models.c.name == name, t.models.c.version == version)


def list_approvals(
    conn: Connection,
    *,
    name: str | None = None,
    version: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    conditions = _recorded(since, until)
    if name is not None:
        conditions.append(t.approvals.c.name == name)
    if version is not None:
        conditions.append(t.approvals.c.version == version)
    return _page(conn, t.approvals, conditions, after, limit)


def get_approval(conn: Connection, approval_id: str) -> dict[str, Any]:
    return _one(conn, t.approvals, f"approval {approval_id!r}", t.approvals.c.approval_id == approval_id)


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


def _page_of_decision(conn: Connection, table: Table, decision_id: str, after: int | None, limit: int) -> Page:
    """The rows of `table` about one decision (404 if the decision is not recorded)."""
    known = conn.execute(select(t.decisions.c.seq).where(t.decisions.c.decision_id == decision_id)).first()
    if known is None:
        raise NotFoundError(f"decision {decision_id!r} does not exist")
    return _page(conn, table, [table.c.decision_id == decision_id], after, limit)


def list_reviews(conn: Connection, decision_id: str, *, after: int | None = None, limit: int = 100) -> Page:
    """The human reviews of one decision, oldest first (404 if the decision is not recorded)."""
    return _page_of_decision(conn, t.reviews, decision_id, after, limit)


def list_appeals(conn: Connection, decision_id: str, *, after: int | None = None, limit: int = 100) -> Page:
    """The appeals against one decision, oldest first (404 if the decision is not recorded)."""
    return _page_of_decision(conn, t.appeals, decision_id, after, limit)


# -- the log itself --------------------------------------------------------------------------------


def first_seq_at(conn: Connection, ts: str) -> int:
    """The smallest sequence number recorded at or after `ts` (one past the last entry if none).

    Entry times never decrease along the log (the sequencer stamps max(now, previous time), and
    `govledger verify` reports `time_order` otherwise), so this is a binary search on the primary
    key: about log2(n) one-row reads, where a filter on the unindexed `entries.ts` would scan the
    log from its start. Each probe reads the first entry at or after its position, so it also
    holds over a gap.
    """
    last = store.max_seq(conn)
    if last is None:
        return 0
    low, high = 0, last + 1
    while low < high:
        middle = (low + high) // 2
        found = conn.execute(
            select(entries.c.ts).where(entries.c.seq >= middle).order_by(entries.c.seq).limit(1)
        ).scalar()
        if found is None or found >= ts:
            high = middle
        else:
            low = middle + 1
    return low


def list_entries(
    conn: Connection,
    *,
    kind: str | None = None,
    subject: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    """Entries in sequence order (as `Entry.as_json`), optionally of one kind or subject and
    recorded in a time range. The range becomes a seq range (`first_seq_at`); the time is also
    checked on each row, so no entry outside the range is ever shown."""
    limit = max(1, min(limit, MAX_PAGE))
    conditions: list[Any] = [entries.c.seq > after] if after is not None else []
    if since is not None:
        conditions += [entries.c.seq >= first_seq_at(conn, since), entries.c.ts >= since]
    if until is not None:
        conditions += [entries.c.seq < first_seq_at(conn, until), entries.c.ts < until]
    if kind is not None:
        conditions.append(entries.c.kind == kind)
    if subject is not None:
        conditions.append(entries.c.subject == subject)
    query = select(entries.c.seq, entries.c.body, entries.c.leaf_hash).where(and_(True, *conditions))
    rows = conn.execute(query.order_by(entries.c.seq).limit(limit + 1)).all()
    items = [entry_from_row(seq, bytes(body), bytes(leaf)).as_json() for seq, body, leaf in rows[:limit]]
    return Page(items, items[-1]["seq"] if len(rows) > limit else None)
