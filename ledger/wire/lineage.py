"""Datasets, runs, models, approvals and decisions: the write receipts, the records read back,
lineage graphs and decision traces.

The receipts are frozen pydantic dataclasses rather than `BaseModel`s because the client hands
them to its callers, who construct and compare them positionally
(``DecisionReceipt("d-1", 7, duplicate=True)``); FastAPI documents them the same way.
Records carry the projection's columns plus the entry behind them (`seq`, `recorded_at`,
`recorded_by`, `data`, the payload as recorded).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic.dataclasses import dataclass

from ledger.wire.common import Actor, Timestamp

__all__ = [
    "AppealRecord",
    "ApprovalRecord",
    "BatchResult",
    "DatasetRecord",
    "DatasetRow",
    "DecisionReceipt",
    "DecisionRecord",
    "DecisionTrace",
    "ErasureReceipt",
    "GraphEdge",
    "GraphNode",
    "LineageGraph",
    "ModelRecord",
    "ModelsInProduction",
    "ProductionModel",
    "PromotionAttempt",
    "ProofPack",
    "ProofPackItem",
    "Receipt",
    "ReviewRecord",
    "RunRecord",
    "Trace",
    "TraceLineage",
    "TraceNode",
]


# -- receipts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One entry appended: its sequence number, time, leaf hash (hex) and kind."""

    seq: int
    ts: str
    leaf_hash: str
    kind: str


@dataclass(frozen=True)
class ErasureReceipt:
    """The `subject.erased` entry that shredded a subject's key.

    `purged` is True when the key's old copies were confirmed gone from the database's files before
    this answer (docs/architecture.md, "Erasure off the disk", gives the bound); False when a
    reader of an older snapshot outlasted the wait: the erasure is committed all the same, and
    `purge_detail` says what remains.
    """

    seq: int
    ts: str
    leaf_hash: str
    subject_ref: str
    purged: bool = True
    purge_detail: str = ""


@dataclass(frozen=True)
class DecisionReceipt:
    """A decision in the log. `duplicate` is True when it was already recorded (a retry): then
    `seq` is the original entry and `ts`/`leaf_hash` are absent (the service does not repeat them)."""

    decision_id: str
    seq: int
    ts: str | None = None
    leaf_hash: str | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class BatchResult:
    """A batch of decisions: the newly recorded ones and the retries recognised as duplicates.
    The service sends a duplicate as ``{"decision_id", "seq"}``; it is read with
    ``duplicate=True``, which is what being in this list means."""

    recorded: tuple[DecisionReceipt, ...]
    duplicates: tuple[DecisionReceipt, ...]

    @field_validator("duplicates", mode="after")
    @classmethod
    def _mark_duplicates(cls, value: tuple[DecisionReceipt, ...]) -> tuple[DecisionReceipt, ...]:
        return tuple(
            d if d.duplicate else DecisionReceipt(d.decision_id, d.seq, d.ts, d.leaf_hash, True) for d in value
        )


# -- records ---------------------------------------------------------------------------------


class _Record(BaseModel):
    seq: int = Field(description="the entry that recorded it (ask for its inclusion proof)")
    recorded_at: str = Timestamp("when the entry was recorded")
    recorded_by: Actor
    data: dict[str, Any] = Field(description="the payload as recorded")


class DatasetRow(_Record):
    """A dataset in a list (`sensitive_attributes` as stored: a JSON-encoded list)."""

    dataset_id: str
    content_sha256: str
    rows: int
    licence: str | None
    sensitive_attributes: str = Field(description="JSON-encoded list of column names, as stored")


class DatasetRecord(_Record):
    """One dataset (`sensitive_attributes` decoded)."""

    dataset_id: str
    content_sha256: str
    rows: int
    licence: str | None
    sensitive_attributes: list[str]


class RunRecord(_Record):
    run_id: str
    artifact_sha256: str
    actor_id: str


class ModelRecord(_Record):
    name: str
    version: str
    artifact_sha256: str
    run_id: str
    stage: Literal["registered", "staging", "production", "retired"]
    stage_seq: int = Field(description="the entry that set the current stage")


class PromotionAttempt(_Record):
    """One attempt to promote a model version: promoted (a `model.promoted` entry) or refused by
    the gate (a `promotion.refused` entry, whose `data` says why). `recorded_by` is who asked."""

    name: str
    version: str
    stage: Literal["staging", "production"]
    outcome: Literal["promoted", "refused"]


class ApprovalRecord(_Record):
    approval_id: str
    name: str
    version: str
    decision: str
    actor_id: str
    evaluation_id: str | None


class DecisionRecord(_Record):
    decision_id: str
    name: str
    version: str
    subject_ref: str
    outcome: str
    adverse: bool
    ts: str = Timestamp("when the decision was recorded")


class ReviewRecord(_Record):
    decision_id: str
    outcome: str


class AppealRecord(_Record):
    appeal_id: str
    decision_id: str
    ts: str = Timestamp("when the appeal was recorded")


# -- graphs and traces -----------------------------------------------------------------------


class GraphNode(BaseModel):
    """One object of the lineage, with the entry (`seq`, `ts`) that recorded it."""

    id: str
    kind: str
    seq: int
    ts: str
    attributes: dict[str, Any]


class GraphEdge(BaseModel):
    """Reads "source <relation> target", e.g. run:run-1 trained_on dataset:adult-clean."""

    source: str
    target: str
    relation: str


class LineageGraph(BaseModel):
    root: str
    direction: Literal["upstream", "downstream"]
    as_of: str | None = Field(description="the time asked about, in the log's fixed-width form")
    as_of_seq: int | None = Field(description="the last entry counted (-1: none), when as of a time")
    truncated: bool = Field(description="decisions were capped at decision_limit")
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class ProductionModel(BaseModel):
    id: str
    name: str
    version: str
    seq: int
    artifact_sha256: str
    run_id: str
    promotion_seq: int
    promoted_at: str


class ModelsInProduction(BaseModel):
    as_of: str | None
    models: list[ProductionModel]


class ProofPackItem(BaseModel):
    """One entry of a proof pack: its exact canonical body, leaf hash and inclusion path."""

    seq: int
    body: str
    leaf_hash: str
    path: list[str]


class ProofPack(BaseModel):
    """A proof pack (docs/ledger-format.md): entries proven against one signed checkpoint, with
    the key entries that let a reader rebuild the key ring; checked offline by `verify-pack`."""

    format: str
    origin: str
    purpose: str | None
    checkpoint: str = Field(description="C2SP signed note")
    key_entries: list[ProofPackItem]
    entries: list[ProofPackItem]


class TraceNode(GraphNode):
    """A node of a decision trace, with the leaf hash of the entry that recorded it."""

    leaf_hash: str


class TraceLineage(LineageGraph):
    nodes: list[TraceNode]  # type: ignore[assignment]  # the graph's nodes, each with its leaf hash


class Trace(BaseModel):
    """Everything behind one decision (docs/ledger-format.md, the trace format)."""

    decision_id: str
    lineage: TraceLineage
    evaluations: list[TraceNode]
    policies: list[TraceNode]
    approvals: list[TraceNode]
    stage_changes: list[TraceNode]
    reviews: list[TraceNode]
    appeals: list[TraceNode]
    erasure: TraceNode | None
    refused_promotions: list[TraceNode] = Field(
        default_factory=list,
        description="promotions of the decision's model version the gate refused before it (`promotion.refused`), "
        "each joined to the model by a `refused_promotion_of` edge",
    )
    edges: list[GraphEdge]
    seqs: list[int] = Field(description="every entry involved, sorted: the entries of the pack")


class DecisionTrace(BaseModel):
    """A decision's trace and `pack`, the proof pack of every entry in it."""

    pack: ProofPack
    trace: Trace
