"""Models, training runs, datasets and the stage changes and approvals of a model version, as the
projections record them: the facts the policy engine's gate and the reports start from.

Why here: the tables belong to the ledger, so `policies` and `reports` ask these functions and
never build SQL. Each answer carries the `seq` of the entry it comes from, so the caller can read
the full entry or cite it. `as_of` (a log size) ignores rows whose entry is at or beyond it, so a
report reads one log state while the log grows; None reads everything. The paginated lists the
HTTP API serves are in `ledger.lineage.queries`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ledger.lineage import tables as t
from ledger.storage.db import before_log_size

__all__ = [
    "DatasetRecord",
    "ModelRecord",
    "StageChange",
    "approval_seqs",
    "datasets_by_id",
    "first_dataset_with_content",
    "model_version",
    "model_versions",
    "newest_model_with_artifact",
    "run_input_ids",
    "run_seq",
    "stage_changes",
]


@dataclass(frozen=True)
class ModelRecord:
    """A registered model version (`model.registered`) and the stage it is in now."""

    name: str
    version: str
    seq: int
    artifact_sha256: str
    run_id: str
    stage: str
    stage_seq: int  # the entry that put it in its stage (its registration, or the latest stage change)


@dataclass(frozen=True)
class DatasetRecord:
    """A registered dataset (`dataset.registered`)."""

    dataset_id: str
    seq: int
    content_sha256: str
    licence: str | None
    sensitive_attributes: list[str]


@dataclass(frozen=True)
class StageChange:
    """A `model.stage_changed` entry: which stage the model version moved to."""

    seq: int
    stage: str


def _model(row: Any) -> ModelRecord:
    return ModelRecord(row.name, row.version, row.seq, row.artifact_sha256, row.run_id, row.stage, row.stage_seq)


def _dataset(row: Any) -> DatasetRecord:
    return DatasetRecord(
        dataset_id=row.dataset_id,
        seq=row.seq,
        content_sha256=row.content_sha256,
        licence=row.licence,
        sensitive_attributes=json.loads(row.sensitive_attributes),
    )


def model_version(conn: Connection, name: str, version: str, *, as_of: int | None = None) -> ModelRecord | None:
    """The model version registered as `name`@`version`, or None."""
    m = t.models
    row = conn.execute(
        select(m).where(m.c.name == name, m.c.version == version, *before_log_size(m.c.seq, as_of))
    ).first()
    return None if row is None else _model(row)


def model_versions(conn: Connection, name: str, *, as_of: int | None = None) -> list[ModelRecord]:
    """Every version registered under `name`, oldest first."""
    m = t.models
    rows = conn.execute(select(m).where(m.c.name == name, *before_log_size(m.c.seq, as_of)).order_by(m.c.seq)).all()
    return [_model(row) for row in rows]


def newest_model_with_artifact(conn: Connection, artifact_sha256: str) -> ModelRecord | None:
    """The newest model version registered with this artifact (by its SHA-256), or None."""
    m = t.models
    row = conn.execute(
        select(m).where(m.c.artifact_sha256 == artifact_sha256).order_by(m.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else _model(row)


def stage_changes(conn: Connection, name: str, version: str, *, as_of: int | None = None) -> list[StageChange]:
    """The stage changes of one model version, oldest first."""
    s = t.stage_changes
    query = select(s.c.seq, s.c.stage).where(s.c.name == name, s.c.version == version, *before_log_size(s.c.seq, as_of))
    return [StageChange(row.seq, row.stage) for row in conn.execute(query.order_by(s.c.seq))]


def approval_seqs(conn: Connection, name: str, version: str, *, as_of: int | None = None) -> list[int]:
    """The entries recording approval decisions on one model version, oldest first."""
    a = t.approvals
    query = select(a.c.seq).where(a.c.name == name, a.c.version == version, *before_log_size(a.c.seq, as_of))
    return list(conn.execute(query.order_by(a.c.seq)).scalars())


def run_seq(conn: Connection, run_id: str, *, as_of: int | None = None) -> int | None:
    """The entry that recorded this training run, or None."""
    r = t.runs
    return conn.execute(select(r.c.seq).where(r.c.run_id == run_id, *before_log_size(r.c.seq, as_of))).scalar()


def run_input_ids(conn: Connection, run_id: str) -> list[str]:
    """The datasets a training run read (its `input_datasets`)."""
    return list(conn.execute(select(t.run_inputs.c.dataset_id).where(t.run_inputs.c.run_id == run_id)).scalars())


def datasets_by_id(conn: Connection, dataset_ids: Sequence[str], *, as_of: int | None = None) -> list[DatasetRecord]:
    """The registered datasets among `dataset_ids` (unknown ids are left out), in log order."""
    d = t.datasets
    if not dataset_ids:
        return []
    query = select(d).where(d.c.dataset_id.in_(list(dataset_ids)), *before_log_size(d.c.seq, as_of))
    return [_dataset(row) for row in conn.execute(query.order_by(d.c.seq))]


def first_dataset_with_content(conn: Connection, content_sha256: str) -> DatasetRecord | None:
    """The first dataset registered with this content hash, or None."""
    d = t.datasets
    row = conn.execute(select(d).where(d.c.content_sha256 == content_sha256).order_by(d.c.seq).limit(1)).first()
    return None if row is None else _dataset(row)
