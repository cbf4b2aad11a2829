"""Building a lineage graph's nodes and edges, one level (decisions, models, runs, datasets) at a time.

Why: each level is one indexed query over its projection, joined to `entries` for the times and
cut off at the walk's `as_of` sequence number; IN lists go in chunks. `Walk` collects what the
levels find; the order in which levels are visited is in `ledger.lineage.graph_walks`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, cast, func, null, select

from ledger.lineage import tables as t
from ledger.lineage.graph_results import Edge, Graph, Node
from ledger.storage.tables import entries

__all__ = ["DEFAULT_DECISION_LIMIT", "ModelKey"]

DEFAULT_DECISION_LIMIT = 1000
_CHUNK = 500  # values per IN list

ModelKey = tuple[str, str]


class Walk:
    """What a traversal has found, and the cutoff it reads the projections at (None: everything)."""

    def __init__(self, conn: Connection, cutoff: int | None, decision_limit: int = DEFAULT_DECISION_LIMIT) -> None:
        self.conn = conn
        self.cutoff = cutoff
        self.decision_limit = decision_limit
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()
        self.truncated = False

    def upto(self, column: Any) -> list[ColumnElement[bool]]:
        return [] if self.cutoff is None else [column <= self.cutoff]

    def add(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def link(self, source: str, relation: str, target: str) -> None:
        self.edges.add(Edge(source, target, relation))

    def rows_in(self, query: Select[Any], column: Any, values: Iterable[Any]) -> list[Any]:
        """The rows of `query` with `column` IN `values`, asking in chunks."""
        wanted = sorted(set(values))
        rows: list[Any] = []
        for start in range(0, len(wanted), _CHUNK):
            rows.extend(self.conn.execute(query.where(column.in_(wanted[start : start + _CHUNK]))).all())
        return rows

    def graph(self, root: str, direction: str, as_of: str | None) -> Graph:
        nodes = sorted(self.nodes.values(), key=lambda node: (node.seq, node.id))
        edges = sorted(e for e in self.edges if e.source in self.nodes and e.target in self.nodes)
        return Graph(root, direction, nodes, edges, as_of, self.cutoff, self.truncated)


def model_node_id(name: str, version: str) -> str:
    return f"model:{name}@{version}"


def parse_model_key(model: str) -> ModelKey:
    name, _, version = model.partition("@")
    return name, version


# -- fetching one level: each adds its nodes and their links, and returns its rows -----------------


def _decision_query(w: Walk) -> Select[Any]:
    d = t.decisions
    columns = (d.c.decision_id, d.c.seq, d.c.ts, d.c.name, d.c.version, d.c.outcome, d.c.adverse, d.c.subject_ref)
    return select(*columns).where(*w.upto(d.c.seq))


def decisions_where(w: Walk, column: Any, values: Iterable[Any], *, limited: bool = False) -> list[Any]:
    query = _decision_query(w)
    if limited:
        query = query.order_by(t.decisions.c.seq).limit(w.decision_limit + 1)
    rows = sorted(w.rows_in(query, column, values), key=lambda row: row.seq)
    if limited and len(rows) > w.decision_limit:
        w.truncated, rows = True, rows[: w.decision_limit]
    for row in rows:
        node = Node(
            f"decision:{row.decision_id}",
            "decision",
            row.seq,
            row.ts,
            {"outcome": row.outcome, "adverse": bool(row.adverse)},
        )
        w.add(node)
        w.link(node.id, "decided_by", model_node_id(row.name, row.version))
    return rows


def model_query(w: Walk, *, stage: str | None = None) -> Select[Any]:
    """Models with their stage as of the cutoff (the last stage change at or below it, else
    registered); with `stage`, only the models in that stage then."""
    m, changes = t.models, t.stage_changes
    change = changes.alias("change")
    last_change = (
        select(func.max(changes.c.seq))
        .where(changes.c.name == m.c.name, changes.c.version == m.c.version, *w.upto(changes.c.seq))
        .correlate(m)
        .scalar_subquery()
    )
    return (
        select(
            m.c.name,
            m.c.version,
            m.c.seq,
            m.c.artifact_sha256,
            m.c.run_id,
            entries.c.ts,
            func.coalesce(change.c.stage, "registered").label("stage"),
            func.coalesce(change.c.seq, m.c.seq).label("stage_seq"),
            func.coalesce(change.c.ts, entries.c.ts).label("stage_ts"),
        )
        .select_from(
            m.join(entries, entries.c.seq == m.c.seq).outerjoin(change, change.c.seq == last_change),
        )
        .where(*w.upto(m.c.seq), *([] if stage is None else [change.c.stage == stage]))
    )


def models_where(w: Walk, column: Any, values: Iterable[Any]) -> list[Any]:
    rows = w.rows_in(model_query(w), column, values)
    for row in rows:
        attributes = {
            "artifact_sha256": row.artifact_sha256,
            "stage": row.stage,
            "stage_seq": int(row.stage_seq),
            "stage_ts": row.stage_ts,
        }
        node = Node(model_node_id(row.name, row.version), "model", row.seq, row.ts, attributes)
        w.add(node)
        w.link(f"run:{row.run_id}", "produced", node.id)
    return rows


def runs_where(w: Walk, column: Any, values: Iterable[Any]) -> list[Any]:
    """One row per (run, input dataset)."""
    r, inputs = t.runs, t.run_inputs
    query = (
        select(r.c.run_id, r.c.seq, r.c.artifact_sha256, entries.c.ts, inputs.c.dataset_id)
        .select_from(r.join(entries, entries.c.seq == r.c.seq).join(inputs, inputs.c.run_id == r.c.run_id))
        .where(*w.upto(r.c.seq))
    )
    rows = w.rows_in(query, column, values)
    for row in rows:
        w.add(Node(f"run:{row.run_id}", "run", row.seq, row.ts, {"artifact_sha256": row.artifact_sha256}))
        w.link(f"run:{row.run_id}", "trained_on", f"dataset:{row.dataset_id}")
    return rows


def datasets_where(w: Walk, ids: Sequence[str], *, upstream: bool) -> list[Any]:
    """The datasets `ids` and every ancestor (upstream) or descendant (downstream), in one
    recursive query; each row is a dataset (`node`) and the dataset it was reached from (`via`)."""
    if not ids:
        return []
    d, parents = t.datasets, t.dataset_parents
    walk = (
        select(d.c.dataset_id.label("node"), cast(null(), t.ID).label("via"))
        .where(d.c.dataset_id.in_(list(ids)))
        .cte("walk", recursive=True)
    )
    step = parents.alias("step")
    near, far = (step.c.dataset_id, step.c.parent_id) if upstream else (step.c.parent_id, step.c.dataset_id)
    walk = walk.union(select(far, near).where(near == walk.c.node))
    query = (
        select(walk.c.via, *d.c, entries.c.ts)
        .select_from(walk.join(d, d.c.dataset_id == walk.c.node).join(entries, entries.c.seq == d.c.seq))
        .where(*w.upto(d.c.seq))
    )
    rows = list(w.conn.execute(query).all())
    for row in rows:
        attributes = {
            "content_sha256": row.content_sha256,
            "licence": row.licence,
            "rows": row.rows,
            "sensitive_attributes": json.loads(row.sensitive_attributes),
        }
        node = Node(f"dataset:{row.dataset_id}", "dataset", row.seq, row.ts, attributes)
        w.add(node)
        if row.via is not None:
            child, parent = (f"dataset:{row.via}", node.id) if upstream else (node.id, f"dataset:{row.via}")
            w.link(child, "derived_from", parent)
    return rows
