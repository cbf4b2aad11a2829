"""What the ledger says about the model and data being evaluated, as plain JSON-able facts.

The gate identifies the model by its artifact's SHA-256 and the evaluation data by its content
SHA-256, so it cannot evaluate one file while recording another. The same function answers
locally (a connection to the ledger) and remotely (the service's `/v1/evaluation-context`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.lineage.registry_reads import (
    DatasetRecord,
    datasets_by_id,
    first_dataset_with_content,
    newest_model_with_artifact,
    run_input_ids,
)
from ledger.storage.db import Connection
from ledger.storage.store import fetch_entry_data
from ledger.wire import EvaluationContext

__all__ = ["DatasetFacts", "LineageFacts", "lineage_facts"]


@dataclass(frozen=True)
class DatasetFacts:
    dataset_id: str
    content_sha256: str
    seq: int
    licence: str | None
    sensitive_attributes: list[str]
    derived_from: list[str]


@dataclass(frozen=True)
class LineageFacts:
    model: dict[str, Any] | None = None  # name, version, run_id, seq, stage, registration payload
    training_datasets: list[DatasetFacts] = field(default_factory=list)  # run inputs and their ancestors
    evaluation_dataset: DatasetFacts | None = None

    @classmethod
    def from_wire(cls, context: EvaluationContext) -> LineageFacts:
        """The facts as the service sent them (`GET /v1/evaluation-context`, `ledger.wire`)."""
        evaluation = context.evaluation_dataset
        return cls(
            model=context.model,
            training_datasets=[DatasetFacts(**d.model_dump()) for d in context.training_datasets],
            evaluation_dataset=None if evaluation is None else DatasetFacts(**evaluation.model_dump()),
        )


def _dataset(conn: Connection, record: DatasetRecord) -> DatasetFacts:
    data = fetch_entry_data(conn, record.seq)
    return DatasetFacts(
        dataset_id=record.dataset_id,
        content_sha256=record.content_sha256,
        seq=record.seq,
        licence=record.licence,
        sensitive_attributes=record.sensitive_attributes,
        derived_from=list(data.get("derived_from", [])),
    )


def _with_ancestors(conn: Connection, dataset_ids: list[str]) -> list[DatasetFacts]:
    seen: dict[str, DatasetFacts] = {}
    frontier = list(dataset_ids)
    while frontier:
        records = datasets_by_id(conn, frontier)
        frontier = []
        for record in records:
            if record.dataset_id not in seen:
                facts = _dataset(conn, record)
                seen[record.dataset_id] = facts
                frontier += [p for p in facts.derived_from if p not in seen]
    return sorted(seen.values(), key=lambda d: d.seq)


def lineage_facts(conn: Connection, *, artifact_sha256: str, data_sha256: str) -> LineageFacts:
    """The newest model version registered with this artifact, its training data back through
    derivations, and the registered dataset with this content hash (None where unknown)."""
    model_row = newest_model_with_artifact(conn, artifact_sha256)
    model = None
    training: list[DatasetFacts] = []
    if model_row is not None:
        model = {
            "name": model_row.name,
            "version": model_row.version,
            "run_id": model_row.run_id,
            "seq": model_row.seq,
            "stage": model_row.stage,
            "registration": fetch_entry_data(conn, model_row.seq),
        }
        training = _with_ancestors(conn, run_input_ids(conn, model_row.run_id))
    dataset_row = first_dataset_with_content(conn, data_sha256)
    evaluation = _dataset(conn, dataset_row) if dataset_row is not None else None
    return LineageFacts(model=model, training_datasets=training, evaluation_dataset=evaluation)
