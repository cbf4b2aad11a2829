"""What a decision report stands on: the decision entry, its chain as the log stood when it was
recorded, its reviews and erasure, all read as of the report's checkpoint (shared by the
decision trace report and the adverse-action notice)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.api import Ledger
from ledger.errors import NotFoundError
from ledger.lineage.graph import Node
from ledger.lineage.trace import Trace, decision_trace
from ledger.log.entry import Entry
from reports.evidence import Evidence

__all__ = ["NOT_RECORDED", "DecisionFacts", "appeal_rows", "load_decision", "na", "na_reason", "review_rows"]

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class DecisionFacts:
    """Every ledger entry behind one decision, as of the report's checkpoint (nothing newer)."""

    decision_id: str
    entry: Entry  # decision.recorded
    trace: Trace
    model: Entry  # model.registered
    run: Entry | None  # training_run.recorded
    datasets: list[tuple[Node, Entry]]  # log order, back through derived_from
    promotion: Entry | None  # the model.promoted entry named by promotion_seq
    approvals: list[Entry]
    stage_changes: list[Node]
    evaluations: list[Entry]  # evaluation.recorded of the artifact, before the decision (the trace's)
    policies: dict[str, int]  # policy sha256 -> seq of its policy.published (the trace's policies)
    reviews: list[Entry]
    appeals: list[Entry]
    erasure: Entry | None

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.entry.data
        return data

    def final_review(self) -> Entry | None:
        return self.reviews[-1] if self.reviews else None


def _entry(ledger: Ledger, seq: int, size: int) -> Entry | None:
    return ledger.get(seq) if seq < size else None


def load_decision(ledger: Ledger, evidence: Evidence, decision_id: str) -> DecisionFacts:
    """Read everything behind `decision_id` as of the evidence checkpoint; NotFoundError if the
    decision is not in the log (or only after the checkpoint)."""
    size = evidence.size
    with ledger.read_snapshot() as conn:
        trace = decision_trace(conn, decision_id)
    decision_node = next(n for n in trace.lineage.nodes if n.kind == "decision")
    if decision_node.seq >= size:
        raise NotFoundError(f"decision {decision_id!r} is not in the log as of the report's checkpoint (size {size})")
    entry = ledger.get(decision_node.seq)
    data = entry.data
    nodes = {node.id: node for node in trace.lineage.nodes}
    model_node = nodes[f"model:{data['model']['name']}@{data['model']['version']}"]
    run_node = nodes.get(f"run:{data['training_run_id']}")
    datasets = [(node, ledger.get(node.seq)) for node in trace.lineage.nodes if node.kind == "dataset"]
    return DecisionFacts(
        decision_id=decision_id,
        entry=entry,
        trace=trace,
        model=ledger.get(model_node.seq),
        run=None if run_node is None else ledger.get(run_node.seq),
        datasets=datasets,
        promotion=_entry(ledger, int(data["promotion_seq"]), size),
        approvals=[ledger.get(node.seq) for node in trace.approvals],
        stage_changes=list(trace.stage_changes),
        evaluations=[ledger.get(node.seq) for node in trace.evaluations],  # all before the decision
        policies={node.attributes["sha256"]: node.seq for node in trace.policies},
        reviews=[ledger.get(node.seq) for node in trace.reviews if node.seq < size],
        appeals=[ledger.get(node.seq) for node in trace.appeals if node.seq < size],
        erasure=None if trace.erasure is None or trace.erasure.seq >= size else ledger.get(trace.erasure.seq),
    )


def na_reason(data: dict[str, Any], item: str) -> str:
    """Why an optional record item does not apply, from the record's `not_applicable`."""
    reason = data.get("not_applicable", {}).get(item)
    return str(reason) if reason else "no reason recorded"


def na(data: dict[str, Any], item: str) -> str:
    """The printed statement that an optional record item does not apply, with its reason."""
    return f"Not applicable: {na_reason(data, item)}"


def review_rows(facts: DecisionFacts, evidence: Evidence) -> list[dict[str, Any]]:
    rows = []
    for review in facts.reviews:
        rows.append(
            {
                "ref": evidence.cite(review.seq, f"human review of decision {facts.decision_id}"),
                "reviewer": review.actor.name,
                "reviewer_id": review.actor.id,
                "outcome": review.data["outcome"],
                "override_reason": review.data.get("override_reason"),
                "new_decision": review.data.get("new_decision"),
                "reviewed_at": review.data["reviewed_at"],
                "recorded_at": review.ts,
                "appeal_id": review.data.get("appeal_id"),
            }
        )
    return rows


def appeal_rows(facts: DecisionFacts, evidence: Evidence) -> list[dict[str, Any]]:
    """The appeals against the decision (GDPR 22(3) contest, CO 6-1-1703(4) correction), each cited."""
    return [
        {
            "ref": evidence.cite(appeal.seq, f"appeal against decision {facts.decision_id}"),
            "appeal_id": appeal.data["appeal_id"],
            "received_at": appeal.data["received_at"],
            "channel": appeal.data["channel"],
            "grounds": appeal.data["grounds"],
            "requests": ", ".join(appeal.data["requests"]).replace("_", " "),
            "recorded_by": appeal.actor.name,
            "recorded_at": appeal.ts,
        }
        for appeal in facts.appeals
    ]
