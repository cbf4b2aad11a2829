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

Parts: `graph_results` (nodes, edges, graphs), `graph_inputs` (argument checks),
`graph_cutoff` (the as-of sequence number), `graph_levels` (one level's nodes and edges),
`graph_walks` (the upstream and downstream order). This module holds the two queries and
re-exports what callers import from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ledger.errors import NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.graph_cutoff import last_seq_at, seq_cutoff
from ledger.lineage.graph_inputs import (
    DIRECTIONS,
    KINDS,
    graph_request,
    parse_as_of,
)
from ledger.lineage.graph_levels import (
    DEFAULT_DECISION_LIMIT,
    Walk,
    model_node_id,
    model_query,
)
from ledger.lineage.graph_results import Edge, Graph, Node
from ledger.lineage.graph_walks import walk_downstream, walk_upstream

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
    moment = graph_request(kind, object_id, direction, as_of, decision_limit)
    walk = Walk(conn, None if moment is None else seq_cutoff(conn, moment), decision_limit)
    (walk_upstream if direction == "upstream" else walk_downstream)(walk, kind, [object_id])
    root = f"{kind}:{object_id}"
    if root not in walk.nodes:
        when = "" if moment is None else f" as of {moment}"
        raise NotFoundError(f"{kind} {object_id!r} is not in the log{when}")
    return walk.graph(root, direction, moment)


def models_in_production(conn: Connection, as_of: str | None = None) -> list[dict[str, Any]]:
    """The model versions in production now, or at `as_of`, by name and version."""
    moment = parse_as_of(as_of)
    walk = Walk(conn, None if moment is None else seq_cutoff(conn, moment))
    query = model_query(walk, stage="production").order_by(t.models.c.name, t.models.c.version)
    return [
        {
            "id": model_node_id(row.name, row.version),
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
