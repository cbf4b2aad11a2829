"""The governance parts of a decision trace, each node with the entry (`seq`) that proves it:
evaluations of the model's artifact and the policies they were judged under, approvals and stage
changes of the model version, reviews of the decision (with reviewer and reason), the subject's
erasure, the edges between them, and the leaf hash of every entry involved. One indexed query each.

Which evaluations: every `evaluation.recorded` of the decision's model artifact recorded before
the decision. The promotion gate judges the artifact (the latest evaluation of that exact
artifact under the active policy), and an evaluation names a model version only with that
version's artifact, so this holds every evaluation of the model version, also those approvals
cite and the one the gate read. Which policies: the `policy.published` entry of each of those
evaluations, and the policy that was active when the decision was recorded (the newest
activated one before it), even if nothing was evaluated under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, func, or_, select

from ledger.errors import CorruptLedgerError
from ledger.lineage import tables as t
from ledger.lineage.graph_levels import ModelKey, Walk
from ledger.lineage.graph_results import Edge, Node
from ledger.storage.tables import entries

__all__ = [
    "appeals",
    "approvals",
    "erasure",
    "evaluations",
    "governance_edges",
    "leaf_hashes",
    "policies",
    "reviews",
    "stage_changes",
]


def evaluations(conn: Connection, artifact_sha256: str, before: int) -> list[Node]:
    """Every evaluation of the artifact recorded before `before`, in log order; the newest under
    each policy says `latest_under_policy` (what the promotion gate reads under that policy)."""
    e = t.evaluations
    query = (
        select(e.c.evaluation_id, e.c.seq, e.c.ts, e.c.name, e.c.version, e.c.policy_sha256, e.c.verdict)
        .where(e.c.artifact_sha256 == artifact_sha256, e.c.seq < before)
        .order_by(e.c.seq)
    )
    rows = conn.execute(query).all()
    latest = {row.policy_sha256: row.seq for row in rows}  # rows are in log order: the last one wins
    return [
        Node(
            f"evaluation:{row.evaluation_id}",
            "evaluation",
            row.seq,
            row.ts,
            {
                "evaluation_id": row.evaluation_id,
                "model": f"{row.name}@{row.version}",
                "artifact_sha256": artifact_sha256,
                "policy_sha256": row.policy_sha256,
                "verdict": row.verdict,
                "latest_under_policy": latest[row.policy_sha256] == row.seq,
            },
        )
        for row in rows
    ]


def policies(conn: Connection, sha256s: Iterable[str], before: int) -> list[Node]:
    """The policies with these hashes, and the one active before `before`, in log order."""
    p = t.policies
    active = select(func.max(p.c.seq)).where(p.c.activate.is_(True), p.c.seq < before).scalar_subquery()
    query = (
        select(p.c.sha256, p.c.seq, p.c.name, p.c.version, p.c.activate, p.c.approvals_required, entries.c.ts)
        .add_columns((p.c.seq == active).label("active"))
        .join_from(p, entries, entries.c.seq == p.c.seq)
        .where(or_(p.c.sha256.in_(sorted(set(sha256s))), p.c.seq == active))
        .order_by(p.c.seq)
    )
    return [
        Node(
            f"policy:{row.name}@{row.version}",
            "policy",
            row.seq,
            row.ts,
            {
                "sha256": row.sha256,
                "activate": bool(row.activate),
                "approvals_required": int(row.approvals_required),
                "active_at_decision": bool(row.active),
            },
        )
        for row in conn.execute(query)
    ]


def approvals(conn: Connection, key: ModelKey, before: int) -> list[Node]:
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


def stage_changes(conn: Connection, key: ModelKey, before: int) -> list[Node]:
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


def _about_decision(conn: Connection, table: Any, decision_id: str) -> Iterator[tuple[Any, Any, Any]]:
    """(row, entry data, entry actor) of each row of `table` about the decision, in log order."""
    own = [column for column in table.c if column.name != "ts"]  # the entry's ts (reviews have none)
    query = (
        select(*own, entries.c.ts, entries.c.body)
        .join_from(table, entries, entries.c.seq == table.c.seq)
        .where(table.c.decision_id == decision_id)
        .order_by(table.c.seq)
    )
    for row in conn.execute(query):
        envelope = json.loads(bytes(row.body))
        yield row, envelope["data"], envelope["actor"]


def reviews(conn: Connection, decision_id: str) -> list[Node]:
    """Every review of the decision: the outcome, the reviewer (the entry's actor), the override
    reason and new decision if any, the appeal it answers, and when the review happened (read from
    the entry itself)."""
    nodes = []
    for row, data, actor in _about_decision(conn, t.reviews, decision_id):
        attributes = {
            "outcome": data["outcome"],
            "reviewer": {"id": actor["id"], "name": actor["name"]},
            "override_reason": data.get("override_reason"),
            "new_decision": data.get("new_decision"),
            "reviewed_at": data["reviewed_at"],
            "appeal_id": data.get("appeal_id"),
        }
        nodes.append(Node(f"review:{row.seq}", "review", row.seq, row.ts, attributes))
    return nodes


def appeals(conn: Connection, decision_id: str) -> list[Node]:
    """Every appeal against the decision: when and how it arrived, its grounds and what it asks
    for, and who recorded it (read from the entry itself)."""
    nodes = []
    for row, data, actor in _about_decision(conn, t.appeals, decision_id):
        attributes = {
            "received_at": data["received_at"],
            "channel": data["channel"],
            "grounds": data["grounds"],
            "requests": data["requests"],
            "recorded_by": {"id": actor["id"], "name": actor["name"]},
        }
        nodes.append(Node(f"appeal:{row.appeal_id}", "appeal", row.seq, row.ts, attributes))
    return nodes


def erasure(conn: Connection, subject_ref: str, decision_seq: int) -> Node | None:
    e = t.erasures
    row = conn.execute(select(e.c.seq, e.c.ts).where(e.c.subject_ref == subject_ref)).first()
    if row is None:
        return None
    attributes = {"subject_ref": subject_ref, "after_decision": row.seq > decision_seq}
    return Node(f"subject:{subject_ref}", "erasure", row.seq, row.ts, attributes)


def governance_edges(
    decision_id: str,
    model_id: str,
    evaluation_nodes: list[Node],
    policy_nodes: list[Node],
    approval_nodes: list[Node],
    stage_change_nodes: list[Node],
    review_nodes: list[Node],
    appeal_nodes: list[Node],
    erasure_node: Node | None,
) -> list[Edge]:
    """How the governance nodes hang together (each reads "source <relation> target"): an
    evaluation `evaluated` the model and was `judged_under` a policy; an approval `assessed` the
    model and `relies_on` an evaluation; a stage change `staged` the model; a review `reviewed`
    the decision and `answers` the appeal it names; an appeal `appealed` the decision; an erasure
    `erased_inputs_of` it. Sorted, and only between nodes that exist."""
    decision = f"decision:{decision_id}"
    policy_ids = {node.attributes["sha256"]: node.id for node in policy_nodes}
    evaluation_ids = {node.id for node in evaluation_nodes}
    found: set[Edge] = set()
    for node in evaluation_nodes:
        found.add(Edge(node.id, model_id, "evaluated"))
        policy_id = policy_ids.get(node.attributes["policy_sha256"])
        if policy_id is not None:
            found.add(Edge(node.id, policy_id, "judged_under"))
    for node in approval_nodes:
        found.add(Edge(node.id, model_id, "assessed"))
        cited = f"evaluation:{node.attributes['evaluation_id']}"
        if node.attributes["evaluation_id"] is not None and cited in evaluation_ids:
            found.add(Edge(node.id, cited, "relies_on"))
    found.update(Edge(node.id, model_id, "staged") for node in stage_change_nodes)
    found.update(Edge(node.id, decision, "reviewed") for node in review_nodes)
    found.update(Edge(node.id, decision, "appealed") for node in appeal_nodes)
    appeal_ids = {node.id for node in appeal_nodes}
    for node in review_nodes:
        answered = f"appeal:{node.attributes.get('appeal_id')}"
        if node.attributes.get("appeal_id") is not None and answered in appeal_ids:
            found.add(Edge(node.id, answered, "answers"))
    if erasure_node is not None:
        found.add(Edge(erasure_node.id, decision, "erased_inputs_of"))
    return sorted(found)


def leaf_hashes(walk: Walk, seqs: Iterable[int]) -> dict[int, str]:
    """The stored leaf hash (hex) of each entry, by seq."""
    wanted = sorted(set(seqs))
    rows = walk.rows_in(select(entries.c.seq, entries.c.leaf_hash), entries.c.seq, wanted)
    found = {int(row.seq): bytes(row.leaf_hash).hex() for row in rows}
    missing = [seq for seq in wanted if seq not in found]
    if missing:
        raise CorruptLedgerError(f"entries {missing[:5]} are missing although a projection refers to them")
    return found
