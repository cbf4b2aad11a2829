"""Decision traces: everything behind one decision, each part with the entry that proves it.

The trace is the decision's upstream lineage as the log stood when it was recorded (so the model
shows the stage it was decided under), the approvals and stage changes of that model version
before it, every human review of it, and its subject's erasure if any. `Trace.seqs` lists every
entry involved, which `trace_with_pack` turns into a proof pack an auditor checks offline.
Nine indexed queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.graph import (
    Graph,
    ModelKey,
    Node,
    _decisions,
    _id_problem,
    _problem,
    _raise_problems,
    _Walk,
    _walk_upstream,
)
from ledger.proofpack import build_pack
from ledger.schema import entries

__all__ = ["Trace", "decision_trace", "trace_with_pack"]


@dataclass(frozen=True)
class Trace:
    """Everything behind one decision: its lineage as the log stood when it was recorded, the
    approvals and stage changes of its model before it, its reviews, and its subject's erasure."""

    decision_id: str
    lineage: Graph
    approvals: list[Node]
    stage_changes: list[Node]
    reviews: list[Node]
    erasure: Node | None

    @property
    def seqs(self) -> list[int]:
        """Every entry involved, sorted and unique: the input of a proof pack."""
        extra = [] if self.erasure is None else [self.erasure]
        nodes = [*self.lineage.nodes, *self.approvals, *self.stage_changes, *self.reviews, *extra]
        return sorted({node.seq for node in nodes})

    def as_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "lineage": self.lineage.as_json(),
            "approvals": [node.as_json() for node in self.approvals],
            "stage_changes": [node.as_json() for node in self.stage_changes],
            "reviews": [node.as_json() for node in self.reviews],
            "erasure": None if self.erasure is None else self.erasure.as_json(),
            "seqs": self.seqs,
        }


def _approvals(conn: Connection, key: ModelKey, before: int) -> list[Node]:
    a = t.approvals
    query = (
        select(a.c.approval_id, a.c.seq, entries.c.ts, a.c.decision, a.c.actor_id, a.c.evaluation_id)
        .join_from(a, entries, entries.c.seq == a.c.seq)
        .where(a.c.name == key[0], a.c.version == key[1], a.c.seq < before)
        .order_by(a.c.seq)
    )
    return [
        Node(
            f"approval:{row.approval_id}",
            "approval",
            row.seq,
            row.ts,
            {"decision": row.decision, "actor_id": row.actor_id, "evaluation_id": row.evaluation_id},
        )
        for row in conn.execute(query)
    ]


def _stage_changes(conn: Connection, key: ModelKey, before: int) -> list[Node]:
    s = t.stage_changes
    query = (
        select(s.c.seq, s.c.ts, s.c.stage)
        .where(s.c.name == key[0], s.c.version == key[1], s.c.seq < before)
        .order_by(s.c.seq)
    )
    return [
        Node(f"stage_change:{row.seq}", "stage_change", row.seq, row.ts, {"stage": row.stage})
        for row in conn.execute(query)
    ]


def _reviews(conn: Connection, decision_id: str) -> list[Node]:
    r = t.reviews
    query = (
        select(r.c.seq, entries.c.ts, r.c.outcome)
        .join_from(r, entries, entries.c.seq == r.c.seq)
        .where(r.c.decision_id == decision_id)
        .order_by(r.c.seq)
    )
    return [
        Node(f"review:{row.seq}", "review", row.seq, row.ts, {"outcome": row.outcome}) for row in conn.execute(query)
    ]


def _erasure(conn: Connection, subject_ref: str, decision_seq: int) -> Node | None:
    e = t.erasures
    row = conn.execute(select(e.c.seq, e.c.ts).where(e.c.subject_ref == subject_ref)).first()
    if row is None:
        return None
    attributes = {"subject_ref": subject_ref, "after_decision": row.seq > decision_seq}
    return Node(f"subject:{subject_ref}", "erasure", row.seq, row.ts, attributes)


def decision_trace(conn: Connection, decision_id: str) -> Trace:
    """The chain behind one decision, every part with its seq (`Trace.seqs` feeds a proof pack).

    The lineage (model, run, datasets back through derived_from) is read as the log stood when
    the decision was recorded, so the model's stage is the one it was decided under.
    """
    message = _id_problem("decision", decision_id)
    _raise_problems([] if message is None else [_problem("decision_id", message, "identifier")])
    walk = _Walk(conn, None)
    found = _decisions(walk, t.decisions.c.decision_id, [decision_id])
    if not found:
        raise NotFoundError(f"decision {decision_id!r} is not in the log")
    decision = found[0]
    walk.cutoff = decision.seq
    _walk_upstream(walk, "model", [f"{decision.name}@{decision.version}"])
    key = (decision.name, decision.version)
    return Trace(
        decision_id=decision_id,
        lineage=walk.graph(f"decision:{decision_id}", "upstream", decision.ts),
        approvals=_approvals(conn, key, decision.seq),
        stage_changes=_stage_changes(conn, key, decision.seq),
        reviews=_reviews(conn, decision_id),
        erasure=_erasure(conn, decision.subject_ref, decision.seq),
    )


def trace_with_pack(ledger: Ledger, decision_id: str) -> dict[str, Any]:
    """The trace of a decision and a proof pack of every entry in it: {"trace": ..., "pack": ...}.

    The pack is the parsed JSON object; `verify_pack` needs its exact RFC 8785 bytes, so a client
    re-encodes it canonically (`ledger.canonical.canonical_json`) before verifying.
    """
    with ledger.read_snapshot() as conn:
        trace = decision_trace(conn, decision_id)
    pack = build_pack(ledger, trace.seqs, purpose=f"trace of decision {decision_id}")
    return {"trace": trace.as_json(), "pack": json.loads(pack)}
