"""The lineage kinds: datasets, runs, models, approvals, promotions, refused promotions,
retirements, decisions, reviews, appeals, erasures and dropped-decision reports, each declared
once (`KindSpec`).

The payload models are in `ledger.lineage.schemas` (a refused promotion's, which names the
policy, in `ledger.lineage.policy_schemas`), the projections (which also hold the referential
rules, so that a rebuild enforces them too) in `ledger.lineage.projector` and
`ledger.lineage.policy_projector`.
"""

from __future__ import annotations

from ledger.access.roles import Role
from ledger.kinds.spec import CALLER_SUBJECT, NO_PROJECTION, NOT_IN_TRACES, SYSTEM_ONLY, KindSpec, TraceRole
from ledger.lineage import projector as p
from ledger.lineage.policy_projector import project_promotion_refusal
from ledger.lineage.policy_schemas import PromotionRefused
from ledger.lineage.promotion_reads import refused_before_decision
from ledger.lineage.schemas import (
    ApprovalRecorded,
    DatasetRegistered,
    DecisionAppealed,
    DecisionRecorded,
    DecisionReviewed,
    DecisionsDropped,
    ModelPromoted,
    ModelRef,
    ModelRegistered,
    ModelRetired,
    SubjectErased,
    TrainingRunRecorded,
)

__all__ = ["LINEAGE_KINDS", "model_subject"]

PRODUCER = frozenset({Role.PRODUCER})
APPROVER = frozenset({Role.APPROVER})


def model_subject(
    payload: ModelRegistered | ModelPromoted | ModelRetired | ApprovalRecorded | PromotionRefused,
) -> str:
    """`model:<name>@<version>`: the subject of every entry about one model version."""
    model: ModelRef = payload.model
    return f"model:{model.key}"


def _decision_subject(payload: DecisionRecorded | DecisionReviewed | DecisionAppealed) -> str:
    return f"decision:{payload.decision_id}"


def _dataset_subject(payload: DatasetRegistered) -> str:
    return f"dataset:{payload.dataset_id}"


def _run_subject(payload: TrainingRunRecorded) -> str:
    return f"run:{payload.run_id}"


def _erasure_subject(payload: SubjectErased) -> str:
    return f"subject:{payload.subject_ref}"


LINEAGE_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        kind="dataset.registered",
        payload=DatasetRegistered,
        writers=PRODUCER,
        subject=_dataset_subject,
        checks=(),
        projection=p.project_dataset,
        trace_role=TraceRole(node="dataset", member="lineage"),
    ),
    KindSpec(
        kind="training_run.recorded",
        payload=TrainingRunRecorded,
        writers=PRODUCER,
        subject=_run_subject,
        checks=(),
        projection=p.project_run,
        trace_role=TraceRole(node="run", member="lineage"),
    ),
    KindSpec(
        kind="model.registered",
        payload=ModelRegistered,
        writers=PRODUCER,
        subject=model_subject,
        checks=(),
        projection=p.project_model,
        trace_role=TraceRole(node="model", member="lineage"),
    ),
    KindSpec(
        kind="approval.recorded",
        payload=ApprovalRecorded,
        writers=APPROVER,
        subject=model_subject,
        checks=(),
        projection=p.project_approval,
        trace_role=TraceRole(node="approval", member="approvals"),
    ),
    KindSpec(
        kind="model.promoted",
        payload=ModelPromoted,
        writers=APPROVER,
        subject=model_subject,
        checks=(),
        projection=p.project_promotion,
        trace_role=TraceRole(node="stage_change", member="stage_changes"),
    ),
    KindSpec(
        # the gate's refusal of a model.promoted, on the record: appended by govledger itself
        # (`ledger.api.Ledger.append_many`) with the refused requester as its actor; no key may send one
        kind="promotion.refused",
        payload=PromotionRefused,
        writers=SYSTEM_ONLY,
        subject=model_subject,
        checks=(),
        projection=project_promotion_refusal,
        trace_role=TraceRole(
            node="refused_promotion",
            member="refused_promotions",
            collect=refused_before_decision,
            relation="refused_promotion_of",
            joins="model",  # an attempt in the model version's history, not about the decision
        ),
    ),
    KindSpec(
        kind="model.retired",
        payload=ModelRetired,
        writers=APPROVER,
        subject=model_subject,
        checks=(),
        projection=p.project_retirement,
        trace_role=TraceRole(node="stage_change", member="stage_changes"),
    ),
    KindSpec(
        kind="decision.recorded",
        payload=DecisionRecorded,
        writers=PRODUCER,
        subject=_decision_subject,
        checks=(),
        projection=p.project_decision,
        bulk_projection=p.project_decisions,  # measured: one lookup per model and one insert per run
        trace_role=TraceRole(node="decision", member="lineage"),
    ),
    KindSpec(
        kind="decision.reviewed",
        payload=DecisionReviewed,
        writers=APPROVER,
        subject=_decision_subject,
        checks=(),
        projection=p.project_review,
        trace_role=TraceRole(node="review", member="reviews"),
    ),
    KindSpec(
        kind="decision.appealed",
        payload=DecisionAppealed,
        # an appeal arrives through the customer-facing system (producer) or a risk officer
        writers=frozenset({Role.PRODUCER, Role.APPROVER}),
        subject=_decision_subject,
        checks=(),
        projection=p.project_appeal,
        trace_role=TraceRole(node="appeal", member="appeals"),
    ),
    KindSpec(
        kind="subject.erased",
        payload=SubjectErased,
        writers=frozenset(),  # admin only
        subject=_erasure_subject,
        checks=(),
        projection=p.project_erasure,
        trace_role=TraceRole(node="erasure", member="erasure"),
    ),
    KindSpec(
        kind="decisions.dropped",
        payload=DecisionsDropped,
        writers=PRODUCER,
        subject=CALLER_SUBJECT,
        checks=(),
        projection=NO_PROJECTION,  # the count is on the record; nothing to keep current
        trace_role=NOT_IN_TRACES,
    ),
)
