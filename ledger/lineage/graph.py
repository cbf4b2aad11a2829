"""Lineage graphs, point-in-time answers and decision traces, read from the projections.

Why: the questions asked of a governance log are about chains, not single entries. "What data was
behind this decision?" (upstream), "which decisions did this dataset feed?" (downstream), "which
model was in production on 3 March?" (as of a time), and "show me everything behind decision
d-17, with proof" (a trace, and a proof pack of every entry in it). The projections
(`ledger.lineage.tables`) answer these with indexed queries, and every node keeps the `seq` of the
entry it comes from, so any answer can be proven entry by entry (`trace_with_pack`).

Shape: node ids are the subjects of the entries (`dataset:adult-raw`, `run:run-1`,
`model:credit@1`, `decision:d-1`). An edge reads "source <relation> target": a dataset
`derived_from` a dataset, a run `trained_on` a dataset, a run `produced` a model, a decision
`decided_by` a model. Edges are kept only between nodes of the graph.

As of a time: only entries with ts <= as_of count. Entry times never decrease along the log, so
the cutoff is one sequence number, found by a k-ary search of point lookups on `entries.ts` (which
is not indexed) in O(log n) queries; a projection row counts if its seq is at or below the cutoff,
and a model's stage is that of its last `lineage_stage_changes` row at or below it ("registered"
if none). Anything registered later cannot be an ancestor of something registered earlier (the
projector refuses unknown references), so the cutoff only prunes, it never breaks a chain.

Cost: one query per level of the walk (decisions, models, runs, datasets with their whole
`derived_from` closure in one recursive CTE), each joined to `entries` for the times; IN lists go
in chunks. Decision traces are in `ledger.lineage.trace`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Connection, Select, cast, func, null, select, tuple_

from ledger import store
from ledger.entry import format_ts
from ledger.errors import CorruptLedgerError, InvalidInputError, NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.schemas import Identifier, ModelRef, UtcTime
from ledger.schema import entries

__all__ = [
    "DEFAULT_DECISION_LIMIT",
    "DIRECTIONS",
    "KINDS",
    "Edge",
    "Graph",
    "Node",
    "last_seq_at",
    "lineage_graph",
    "models_in_production",
]

KINDS = ("dataset", "run", "model", "decision")
DIRECTIONS = ("upstream", "downstream")
DEFAULT_DECISION_LIMIT = 1000
_CHUNK = 500  # values per IN list
_FANOUT = 16  # probes per query when searching for the cutoff
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_UTC_TIME: TypeAdapter[str] = TypeAdapter(UtcTime)
_MODEL_KEY = tuple_(t.models.c.name, t.models.c.version)
_DECISION_MODEL = tuple_(t.decisions.c.name, t.decisions.c.version)

ModelKey = tuple[str, str]


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One object of the lineage, with the entry (`seq`, `ts`) that recorded it."""

    id: str
    kind: str
    seq: int
    ts: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "seq": self.seq, "ts": self.ts, "attributes": self.attributes}


@dataclass(frozen=True, order=True)
class Edge:
    """Reads "source <relation> target", e.g. run:run-1 trained_on dataset:adult-clean."""

    source: str
    target: str
    relation: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "relation": self.relation}


@dataclass(frozen=True)
class Graph:
    root: str
    direction: str
    nodes: list[Node]  # in log order
    edges: list[Edge]  # sorted
    as_of: str | None = None  # the time asked about, in the log's fixed-width form
    as_of_seq: int | None = None  # the last entry counted (-1: none), when the graph is as of a time
    truncated: bool = False  # decisions were capped at the decision limit

    def as_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "as_of": self.as_of,
            "as_of_seq": self.as_of_seq,
            "truncated": self.truncated,
            "nodes": [node.as_json() for node in self.nodes],
            "edges": [edge.as_json() for edge in self.edges],
        }


# -- input checks --------------------------------------------------------------------------------


def _problem(field_name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": [field_name], "msg": message, "type": kind}


def _raise_problems(problems: list[dict[str, Any]]) -> None:
    if problems:
        summary = "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in problems)
        raise InvalidInputError(f"invalid lineage query ({summary})", problems)


def _id_problem(kind: str, object_id: object) -> str | None:
    """Why `object_id` cannot name an object of `kind`, or None."""
    if not isinstance(object_id, str):
        return "must be a string"
    try:
        if kind == "model":
            name, at, version = object_id.partition("@")
            if not at:
                return "a model is named name@version"
            ModelRef.model_validate({"name": name, "version": version})
        else:
            _IDENTIFIER.validate_python(object_id)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


def _normalised_time(value: object) -> str:
    """`value` in the fixed-width form entry times use (so strings compare as times)."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    try:
        _UTC_TIME.validate_python(value)
        return format_ts(datetime.fromisoformat(value))
    except (ValidationError, ValueError):
        raise ValueError("must be an RFC 3339 UTC time such as 2026-11-23T10:00:00Z") from None


def _as_of_problems(as_of: object, problems: list[dict[str, Any]]) -> str | None:
    if as_of is None:
        return None
    try:
        return _normalised_time(as_of)
    except ValueError as exc:
        problems.append(_problem("as_of", str(exc), "datetime"))
        return None


def _as_of(as_of: object) -> str | None:
    """`as_of` normalised, or InvalidInputError naming the field."""
    problems: list[dict[str, Any]] = []
    moment = _as_of_problems(as_of, problems)
    _raise_problems(problems)
    return moment


def _graph_request(
    kind: object, object_id: object, direction: object, as_of: object, decision_limit: object
) -> str | None:
    """Check every argument, raising one InvalidInputError listing each bad field; the normalised as_of."""
    problems: list[dict[str, Any]] = []
    if kind not in KINDS:
        problems.append(_problem("kind", f"must be one of {', '.join(KINDS)}", "enum"))
    else:
        message = _id_problem(str(kind), object_id)
        if message is not None:
            problems.append(_problem("object_id", message, "identifier"))
    if direction not in DIRECTIONS:
        problems.append(_problem("direction", f"must be one of {', '.join(DIRECTIONS)}", "enum"))
    if type(decision_limit) is not int or decision_limit < 1:
        problems.append(_problem("decision_limit", "must be a positive integer", "greater_than_equal"))
    moment = _as_of_problems(as_of, problems)
    _raise_problems(problems)
    return moment


# -- the cutoff ----------------------------------------------------------------------------------


def _probes(below: int, above: int) -> list[int]:
    """Up to _FANOUT distinct sequence numbers strictly between `below` and `above`, evenly spread."""
    count = min(_FANOUT, above - below - 1)
    return [below + (above - below) * i // (count + 1) for i in range(1, count + 1)]


def last_seq_at(conn: Connection, as_of: str) -> int:
    """The last sequence number whose entry has ts <= `as_of` (RFC 3339 UTC), or -1 if none."""
    moment = _as_of(as_of)
    if moment is None:
        raise InvalidInputError("as_of is required", [_problem("as_of", "is required", "missing")])
    return _cutoff(conn, moment)


def _cutoff(conn: Connection, as_of: str) -> int:
    """`last_seq_at` for an `as_of` already in the fixed-width form of entry times.

    A k-ary search over point lookups of `entries.ts` (valid because entry times never decrease
    along the log): about log_17(n) queries, after a shortcut for times at or after the last entry.
    """
    head = store.read_head(conn)
    if head.last_ts <= as_of:  # last_ts is never before the last entry's ts
        return head.size - 1
    below, above = -1, head.size  # invariant: ts(seq) <= as_of for seq <= below, > as_of for seq >= above
    while above - below > 1:
        probes = _probes(below, above)
        rows = conn.execute(select(entries.c.seq, entries.c.ts).where(entries.c.seq.in_(probes))).all()
        times = {seq: ts for seq, ts in rows}
        for seq in probes:
            if seq not in times:
                raise CorruptLedgerError(f"entry {seq} is missing from the log: run `govledger verify`")
            if times[seq] > as_of:
                above = seq
                break
            below = seq
    return below


# -- the walk ------------------------------------------------------------------------------------


class _Walk:
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


def _model_id(name: str, version: str) -> str:
    return f"model:{name}@{version}"


def _model_key(model: str) -> ModelKey:
    name, _, version = model.partition("@")
    return name, version


# -- fetching one level: each adds its nodes and their links, and returns its rows -----------------


def _decision_query(w: _Walk) -> Select[Any]:
    d = t.decisions
    columns = (d.c.decision_id, d.c.seq, d.c.ts, d.c.name, d.c.version, d.c.outcome, d.c.adverse, d.c.subject_ref)
    return select(*columns).where(*w.upto(d.c.seq))


def _decisions(w: _Walk, column: Any, values: Iterable[Any], *, limited: bool = False) -> list[Any]:
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
        w.link(node.id, "decided_by", _model_id(row.name, row.version))
    return rows


def _model_query(w: _Walk, *, stage: str | None = None) -> Select[Any]:
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


def _models(w: _Walk, column: Any, values: Iterable[Any]) -> list[Any]:
    rows = w.rows_in(_model_query(w), column, values)
    for row in rows:
        attributes = {
            "artifact_sha256": row.artifact_sha256,
            "stage": row.stage,
            "stage_seq": int(row.stage_seq),
            "stage_ts": row.stage_ts,
        }
        node = Node(_model_id(row.name, row.version), "model", row.seq, row.ts, attributes)
        w.add(node)
        w.link(f"run:{row.run_id}", "produced", node.id)
    return rows


def _runs(w: _Walk, column: Any, values: Iterable[Any]) -> list[Any]:
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


def _datasets(w: _Walk, ids: Sequence[str], *, upstream: bool) -> list[Any]:
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


# -- walking ---------------------------------------------------------------------------------------

Level = Callable[[_Walk, list[str]], list[str]]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _model_ids(rows: Iterable[Any]) -> list[str]:
    return _unique(f"{row.name}@{row.version}" for row in rows)


def _decisions_up(w: _Walk, ids: list[str]) -> list[str]:
    return _model_ids(_decisions(w, t.decisions.c.decision_id, ids))


def _models_up(w: _Walk, ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in _models(w, _MODEL_KEY, map(_model_key, ids)))


def _runs_up(w: _Walk, ids: list[str]) -> list[str]:
    return _unique(row.dataset_id for row in _runs(w, t.runs.c.run_id, ids))


def _datasets_up(w: _Walk, ids: list[str]) -> list[str]:
    _datasets(w, ids, upstream=True)
    return []


def _datasets_down(w: _Walk, ids: list[str]) -> list[str]:
    return _unique(row.dataset_id for row in _datasets(w, ids, upstream=False))


def _run_root(w: _Walk, ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in _runs(w, t.runs.c.run_id, ids))


def _model_root(w: _Walk, ids: list[str]) -> list[str]:
    return _model_ids(_models(w, _MODEL_KEY, map(_model_key, ids)))


def _decision_root(w: _Walk, ids: list[str]) -> list[str]:
    _decisions(w, t.decisions.c.decision_id, ids)
    return []


def _runs_down(w: _Walk, dataset_ids: list[str]) -> list[str]:
    return _unique(row.run_id for row in _runs(w, t.run_inputs.c.dataset_id, dataset_ids))


def _models_down(w: _Walk, run_ids: list[str]) -> list[str]:
    return _model_ids(_models(w, t.models.c.run_id, run_ids))


def _decisions_down(w: _Walk, model_ids: list[str]) -> list[str]:
    _decisions(w, _DECISION_MODEL, map(_model_key, model_ids), limited=True)
    return []


# upstream: from the objects' own ids to the ids of what fed them
_UPSTREAM: dict[str, Level] = {
    "decision": _decisions_up,
    "model": _models_up,
    "run": _runs_up,
    "dataset": _datasets_up,
}
# downstream: the root, then from the ids of the level above to the ids of what they fed
_DOWNSTREAM_ROOT: dict[str, Level] = {
    "dataset": _datasets_down,
    "run": _run_root,
    "model": _model_root,
    "decision": _decision_root,
}
_DOWNSTREAM: dict[str, Level] = {"run": _runs_down, "model": _models_down, "decision": _decisions_down}
_UPSTREAM_ORDER = ("decision", "model", "run", "dataset")
_DOWNSTREAM_ORDER = ("dataset", "run", "model", "decision")


def _walk_upstream(w: _Walk, kind: str, ids: list[str]) -> None:
    for level in _UPSTREAM_ORDER[_UPSTREAM_ORDER.index(kind) :]:
        ids = _UPSTREAM[level](w, ids)


def _walk_downstream(w: _Walk, kind: str, ids: list[str]) -> None:
    ids = _DOWNSTREAM_ROOT[kind](w, ids)
    for level in _DOWNSTREAM_ORDER[_DOWNSTREAM_ORDER.index(kind) + 1 :]:
        ids = _DOWNSTREAM[level](w, ids)


def lineage_graph(
    conn: Connection,
    kind: str,
    object_id: str,
    *,
    direction: str,
    as_of: str | None = None,
    decision_limit: int = DEFAULT_DECISION_LIMIT,
) -> Graph:
    """What fed an object (upstream) or what it fed (downstream), as the log stands or stood at `as_of`.

    `kind` is dataset, run, model or decision; a model's `object_id` is name@version. Malformed
    arguments raise InvalidInputError (each bad field in `errors`); an object absent from the log
    (at `as_of`) raises NotFoundError. Downstream decisions are capped at `decision_limit`
    (earliest first), and the graph then says `truncated`.
    """
    moment = _graph_request(kind, object_id, direction, as_of, decision_limit)
    walk = _Walk(conn, None if moment is None else _cutoff(conn, moment), decision_limit)
    (_walk_upstream if direction == "upstream" else _walk_downstream)(walk, kind, [object_id])
    root = f"{kind}:{object_id}"
    if root not in walk.nodes:
        when = "" if moment is None else f" as of {moment}"
        raise NotFoundError(f"{kind} {object_id!r} is not in the log{when}")
    return walk.graph(root, direction, moment)


def models_in_production(conn: Connection, as_of: str | None = None) -> list[dict[str, Any]]:
    """The model versions in production now, or at `as_of`, by name and version."""
    moment = _as_of(as_of)
    walk = _Walk(conn, None if moment is None else _cutoff(conn, moment))
    query = _model_query(walk, stage="production").order_by(t.models.c.name, t.models.c.version)
    return [
        {
            "id": _model_id(row.name, row.version),
            "name": row.name,
            "version": row.version,
            "seq": row.seq,
            "artifact_sha256": row.artifact_sha256,
            "run_id": row.run_id,
            "promotion_seq": int(row.stage_seq),
            "promoted_at": row.stage_ts,
        }
        for row in conn.execute(query)
    ]


# -- decision traces -----------------------------------------------------------------------------
