"""What the ledger says about the model and data being evaluated, as plain JSON-able facts.

The gate identifies the model by its artifact's SHA-256 and the evaluation data by its content
SHA-256, so it cannot evaluate one file while recording another. The same function answers
locally (a connection to the ledger) and remotely (the service's `/v1/evaluation-context`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ledger.lineage import tables as t
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


def _dataset(conn: Connection, row: Any) -> DatasetFacts:
    data = fetch_entry_data(conn, row.seq)
    return DatasetFacts(
        dataset_id=row.dataset_id,
        content_sha256=row.content_sha256,
        seq=row.seq,
        licence=row.licence,
        sensitive_attributes=json.loads(row.sensitive_attributes),
        derived_from=list(data.get("derived_from", [])),
    )


def _with_ancestors(conn: Connection, dataset_ids: list[str]) -> list[DatasetFacts]:
    seen: dict[str, DatasetFacts] = {}
    frontier = list(dataset_ids)
    while frontier:
        rows = conn.execute(select(t.datasets).where(t.datasets.c.dataset_id.in_(frontier))).all()
        frontier = []
        for row in rows:
            if row.dataset_id not in seen:
                facts = _dataset(conn, row)
                seen[row.dataset_id] = facts
                frontier += [p for p in facts.derived_from if p not in seen]
    return sorted(seen.values(), key=lambda d: d.seq)


def lineage_facts(conn: Connection, *, artifact_sha256: str, data_sha256: str) -> LineageFacts:
    """The newest model version registered with this artifact, its training data back through
    derivations, and the registered dataset with this content hash (None where unknown)."""
    model_row = conn.execute(
        select(t.models).where(t.models.c.artifact_sha256 == artifact_sha256).order_by(t.models.c.seq.desc()).limit(1)
    ).first()
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
        inputs = [
            r[0]
            for r in conn.execute(select(t.run_inputs.c.dataset_id).where(t.run_inputs.c.run_id == model_row.run_id))
        ]
        training = _with_ancestors(conn, inputs)
    dataset_row = conn.execute(
        select(t.datasets).where(t.datasets.c.content_sha256 == data_sha256).order_by(t.datasets.c.seq).limit(1)
    ).first()
    evaluation = _dataset(conn, dataset_row) if dataset_row is not None else None
    return LineageFacts(model=model, training_datasets=training, evaluation_dataset=evaluation)
