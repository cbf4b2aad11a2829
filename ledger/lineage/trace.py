"""Decision traces: everything behind one decision, each part with the entry that proves it.

The trace is the decision's upstream lineage as the log stood when it was recorded (so the model
shows the stage it was decided under); the evaluations of the model's artifact before it and the
policies they were judged under (and the policy active then); the approvals and stage changes of
that model version before it; every human review of it (reviewer, outcome, reason); and its
subject's erasure if any (`ledger.lineage.trace_parts` says which entries each part holds).
`Trace.edges` links these parts to each other and to the lineage, every node carries the leaf
hash of its entry, and `Trace.seqs` lists every entry involved, which `trace_with_pack` turns
into a proof pack; `ledger.verification.trace_check.verify_trace` checks a trace against its pack offline.
Twelve indexed queries. Kinds beyond these that declare a trace member of their own
(`ledger.kinds.spec.TraceRole` with `collect`) add that member: its nodes are what `collect`
finds for the decision, each `<node>:<seq>` and joined to the decision (or to its model version,
for a role that `joins` the model, as refused promotions do) by the role's relation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.kinds.registry import KindRegistry
from ledger.kinds.spec import BUILTIN_TRACE_MEMBERS
from ledger.lineage import tables as t
from ledger.lineage import trace_parts as parts
from ledger.lineage.graph_inputs import id_problem, input_problem, raise_problems
from ledger.lineage.graph_levels import Walk, decisions_where
from ledger.lineage.graph_results import Edge, Graph, Node
from ledger.lineage.graph_walks import walk_upstream
from ledger.verification.proofpack import build_pack

__all__ = ["Trace", "decision_trace", "trace_with_pack"]


@dataclass(frozen=True)
class Trace:
    """Everything behind one decision: its lineage as the log stood when it was recorded, the
    evaluations of its model and their policies, the approvals and stage changes of its model
    before it, its reviews and appeals, its subject's erasure, the edges between them, and every leaf hash."""

    decision_id: str
    lineage: Graph
    evaluations: list[Node]
    policies: list[Node]
    approvals: list[Node]
    stage_changes: list[Node]
    reviews: list[Node]
    appeals: list[Node]
    erasure: Node | None
    edges: list[Edge]  # the governance edges (the lineage's own are in lineage.edges)
    leaf_hashes: dict[int, str]  # hex leaf hash of every entry in `seqs`
    extra: dict[str, list[Node]] = field(default_factory=dict)  # members further kinds declare

    @property
    def nodes(self) -> list[Node]:
        """Every node: the lineage's, then the governance parts in the order of `as_json`."""
        extra = [] if self.erasure is None else [self.erasure]
        governance = [
            *self.evaluations,
            *self.policies,
            *self.approvals,
            *self.stage_changes,
            *self.reviews,
            *self.appeals,
        ]
        declared = [node for member in sorted(self.extra) for node in self.extra[member]]
        return [*self.lineage.nodes, *governance, *extra, *declared]

    @property
    def seqs(self) -> list[int]:
        """Every entry involved, sorted and unique: the input of a proof pack."""
        return sorted({node.seq for node in self.nodes})

    def node_json(self, node: Node) -> dict[str, Any]:
        return {
            "id": node.id,
            "kind": node.kind,
            "seq": node.seq,
            "ts": node.ts,
            "leaf_hash": self.leaf_hashes[node.seq],
            "attributes": node.attributes,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "lineage": {**self.lineage.as_json(), "nodes": [self.node_json(node) for node in self.lineage.nodes]},
            "evaluations": [self.node_json(node) for node in self.evaluations],
            "policies": [self.node_json(node) for node in self.policies],
            "approvals": [self.node_json(node) for node in self.approvals],
            "stage_changes": [self.node_json(node) for node in self.stage_changes],
            "reviews": [self.node_json(node) for node in self.reviews],
            "appeals": [self.node_json(node) for node in self.appeals],
            "erasure": None if self.erasure is None else self.node_json(self.erasure),
            "edges": [edge.as_json() for edge in self.edges],
            "seqs": self.seqs,
            **{member: [self.node_json(node) for node in nodes] for member, nodes in sorted(self.extra.items())},
        }


def _declared_parts(
    conn: Connection, kinds: KindRegistry | None, decision_id: str, decision_seq: int, model_id: str
) -> tuple[dict[str, list[Node]], list[Edge]]:
    """The members further kinds declare, filled by their collectors, and their edges to the
    decision (or to its model, for a role that `joins` the model)."""
    parts_found: dict[str, list[Node]] = {}
    edges: list[Edge] = []
    roles = [] if kinds is None else [r for r in kinds.trace_roles().values() if r.member not in BUILTIN_TRACE_MEMBERS]
    for role in roles:
        assert role.collect is not None and role.relation is not None  # TraceRole refuses otherwise
        nodes = parts_found.setdefault(role.member, [])
        for item in role.collect(conn, decision_id, decision_seq):
            node = Node(f"{role.node}:{item.seq}", role.node, item.seq, item.ts, dict(item.attributes))
            nodes.append(node)
            target = model_id if role.joins == "model" else f"decision:{decision_id}"
            edges.append(Edge(node.id, target, role.relation))
    for nodes in parts_found.values():
        nodes.sort(key=lambda node: node.seq)
    return parts_found, edges


def decision_trace(conn: Connection, decision_id: str, *, kinds: KindRegistry | None = None) -> Trace:
    """The chain behind one decision, every part with its seq and leaf hash (`Trace.seqs` feeds a
    proof pack). With `kinds`, also the members its kinds declare (see the module doc).

    The lineage (model, run, datasets back through derived_from) is read as the log stood when
    the decision was recorded, so the model's stage is the one it was decided under.
    """
    message = id_problem("decision", decision_id)
    raise_problems([] if message is None else [input_problem("decision_id", message, "identifier")])
    walk = Walk(conn, None)
    found = decisions_where(walk, t.decisions.c.decision_id, [decision_id])
    if not found:
        raise NotFoundError(f"decision {decision_id!r} is not in the log")
    decision = found[0]
    walk.cutoff = decision.seq
    model_id = f"model:{decision.name}@{decision.version}"
    walk_upstream(walk, "model", [f"{decision.name}@{decision.version}"])
    key = (decision.name, decision.version)
    evaluations = parts.evaluations(conn, walk.nodes[model_id].attributes["artifact_sha256"], decision.seq)
    policies = parts.policies(conn, [node.attributes["policy_sha256"] for node in evaluations], decision.seq)
    approvals = parts.approvals(conn, key, decision.seq)
    stage_changes = parts.stage_changes(conn, key, decision.seq)
    reviews = parts.reviews(conn, decision_id)
    appeals = parts.appeals(conn, decision_id)
    erasure = parts.erasure(conn, decision.subject_ref, decision.seq)
    lineage = walk.graph(f"decision:{decision_id}", "upstream", decision.ts)
    edges = parts.governance_edges(
        decision_id, model_id, evaluations, policies, approvals, stage_changes, reviews, appeals, erasure
    )
    extra, extra_edges = _declared_parts(conn, kinds, decision_id, decision.seq, model_id)
    every = [*lineage.nodes, *evaluations, *policies, *approvals, *stage_changes, *reviews, *appeals]
    every += [node for nodes in extra.values() for node in nodes]
    seqs = [node.seq for node in every] + ([] if erasure is None else [erasure.seq])
    return Trace(
        decision_id=decision_id,
        lineage=lineage,
        evaluations=evaluations,
        policies=policies,
        approvals=approvals,
        stage_changes=stage_changes,
        reviews=reviews,
        appeals=appeals,
        erasure=erasure,
        edges=sorted({*edges, *extra_edges}),
        leaf_hashes=parts.leaf_hashes(walk, seqs),
        extra=extra,
    )


def trace_with_pack(ledger: Ledger, decision_id: str) -> dict[str, Any]:
    """The trace of a decision and a proof pack of every entry in it: {"trace": ..., "pack": ...}.

    The pack is the parsed JSON object; `verify_pack` needs its exact RFC 8785 bytes, so a client
    re-encodes it canonically (`ledger.log.canonical.canonical_json`) before verifying.
    """
    with ledger.read_snapshot() as conn:
        trace = decision_trace(conn, decision_id, kinds=ledger.registry)
    pack = build_pack(ledger, trace.seqs, purpose=f"trace of decision {decision_id}")
    return {"trace": trace.as_json(), "pack": json.loads(pack)}
