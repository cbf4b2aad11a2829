"""The lineage projections: referential rules checked, and current-state rows written, in the
append's own transaction (and again, in the same order, when the projections are rebuilt).

Each function is the `projection` of one lineage kind (declared in `ledger.lineage.kinds`).
Entries are applied in sequence order, so a batch may register a dataset and, later in the same
batch, a run that uses it. Any refusal raises a domain error and the whole batch rolls back:
unknown references are NotFound (404), duplicates and wrong states are Conflict (409), facts that
contradict the lineage are InvalidInput (422), and separation-of-duties breaches are Forbidden (403).
Runs of consecutive decisions are applied in bulk (`project_decisions`: one lookup per model, one insert).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ledger.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from ledger.lineage import tables as t
from ledger.lineage.policy_projector import (
    check_approval_evaluation,
    check_promotion,
)
from ledger.log.entry import SealedEntry
from ledger.privacy.sealing import destroy_subject_key
from ledger.storage.db import bulk_insert, rows_matching

__all__ = [
    "project_appeal",
    "project_approval",
    "project_dataset",
    "project_decision",
    "project_decisions",
    "project_erasure",
    "project_model",
    "project_promotion",
    "project_retirement",
    "project_review",
    "project_run",
]


def _refuse(error: type[Exception], entry: SealedEntry, message: str, field: str) -> Exception:
    if issubclass(error, InvalidInputError):
        return error(message, [{"loc": ["data", field], "msg": message, "type": "lineage"}])
    return error(message)


def _missing(conn: Connection, table: Any, column: Any, ids: Sequence[str]) -> list[str]:
    if not ids:
        return []
    found = {row[0] for row in rows_matching(conn, table, [column.name], column.name, ids)}
    return [i for i in ids if i not in found]


def project_dataset(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if _missing(conn, t.datasets, t.datasets.c.dataset_id, [data["dataset_id"]]) == []:
        raise _refuse(ConflictError, entry, f"dataset {data['dataset_id']!r} is already registered", "dataset_id")
    unknown = _missing(conn, t.datasets, t.datasets.c.dataset_id, data.get("derived_from", []))
    if unknown:
        raise _refuse(NotFoundError, entry, f"derived_from names unknown datasets: {unknown}", "derived_from")
    conn.execute(
        insert(t.datasets).values(
            dataset_id=data["dataset_id"],
            seq=entry.seq,
            content_sha256=data["content_sha256"],
            rows=data["rows"],
            licence=data.get("licence"),
            sensitive_attributes=json.dumps(data.get("sensitive_attributes", [])),
        )
    )
    parents = [{"dataset_id": data["dataset_id"], "parent_id": p} for p in data.get("derived_from", [])]
    if parents:
        conn.execute(insert(t.dataset_parents), parents)


def project_run(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if not _missing(conn, t.runs, t.runs.c.run_id, [data["run_id"]]):
        raise _refuse(ConflictError, entry, f"training run {data['run_id']!r} is already recorded", "run_id")
    unknown = _missing(conn, t.datasets, t.datasets.c.dataset_id, data["input_datasets"])
    if unknown:
        raise _refuse(NotFoundError, entry, f"input_datasets names unknown datasets: {unknown}", "input_datasets")
    conn.execute(
        insert(t.runs).values(
            run_id=data["run_id"], seq=entry.seq, artifact_sha256=data["artifact_sha256"], actor_id=entry.actor.id
        )
    )
    conn.execute(
        insert(t.run_inputs),
        [{"run_id": data["run_id"], "dataset_id": d} for d in dict.fromkeys(data["input_datasets"])],
    )


def _model_row(conn: Connection, model: dict[str, str]) -> Any:
    row = conn.execute(
        select(t.models).where(t.models.c.name == model["name"], t.models.c.version == model["version"])
    ).first()
    if row is None:
        raise NotFoundError(f"model {model['name']}@{model['version']} is not registered")
    return row


def project_model(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    model = data["model"]
    exists = conn.execute(
        select(t.models.c.seq).where(t.models.c.name == model["name"], t.models.c.version == model["version"])
    ).first()
    if exists is not None:
        raise _refuse(
            ConflictError,
            entry,
            f"model {model['name']}@{model['version']} is already registered (entry {exists[0]})",
            "model",
        )
    run = conn.execute(select(t.runs.c.artifact_sha256).where(t.runs.c.run_id == data["run_id"])).first()
    if run is None:
        raise _refuse(NotFoundError, entry, f"training run {data['run_id']!r} is not recorded", "run_id")
    if run[0] != data["artifact_sha256"]:
        raise _refuse(
            InvalidInputError,
            entry,
            f"artifact_sha256 differs from the artifact training run {data['run_id']!r} produced ({run[0]})",
            "artifact_sha256",
        )
    conn.execute(
        insert(t.models).values(
            name=model["name"],
            version=model["version"],
            seq=entry.seq,
            artifact_sha256=data["artifact_sha256"],
            run_id=data["run_id"],
            stage="registered",
            stage_seq=entry.seq,
        )
    )


def project_approval(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if not _missing(conn, t.approvals, t.approvals.c.approval_id, [data["approval_id"]]):
        raise _refuse(ConflictError, entry, f"approval {data['approval_id']!r} is already recorded", "approval_id")
    model = _model_row(conn, data["model"])
    run_actor = conn.execute(select(t.runs.c.actor_id).where(t.runs.c.run_id == model.run_id)).scalar_one()
    if run_actor == entry.actor.id:
        raise ForbiddenError(
            f"separation of duties: {entry.actor.name} recorded training run {model.run_id} "
            "and may not approve the model it produced"
        )
    check_approval_evaluation(conn, entry)
    conn.execute(
        insert(t.approvals).values(
            approval_id=data["approval_id"],
            seq=entry.seq,
            name=model.name,
            version=model.version,
            decision=data["decision"],
            actor_id=entry.actor.id,
            evaluation_id=data.get("evaluation_id"),
        )
    )


def _stage(conn: Connection, entry: SealedEntry, stage: str) -> None:
    model = _model_row(conn, entry.data["model"])
    if model.stage == "retired":
        raise ConflictError(f"model {model.name}@{model.version} is retired")
    if model.stage == stage:
        raise ConflictError(f"model {model.name}@{model.version} is already in {stage}")
    conn.execute(
        update(t.models)
        .where(t.models.c.name == model.name, t.models.c.version == model.version)
        .values(stage=stage, stage_seq=entry.seq)
    )
    conn.execute(
        insert(t.stage_changes).values(seq=entry.seq, name=model.name, version=model.version, stage=stage, ts=entry.ts)
    )


def project_promotion(conn: Connection, entry: SealedEntry) -> None:
    """A promotion may cite approvals: each must exist, be of this very model version, and approve it."""
    model = entry.data["model"]
    cited = entry.data.get("approval_ids", [])
    if cited:
        rows = {
            row.approval_id: row
            for row in conn.execute(select(t.approvals).where(t.approvals.c.approval_id.in_(cited)))
        }
        unknown = [a for a in cited if a not in rows]
        if unknown:
            raise _refuse(NotFoundError, entry, f"approval_ids names unknown approvals: {unknown}", "approval_ids")
        for approval_id in cited:
            row = rows[approval_id]
            if (row.name, row.version) != (model["name"], model["version"]):
                raise _refuse(
                    InvalidInputError,
                    entry,
                    f"approval {approval_id} is for {row.name}@{row.version}, not {model['name']}@{model['version']}",
                    "approval_ids",
                )
            if row.decision != "approve":
                raise _refuse(ConflictError, entry, f"approval {approval_id} rejected the model", "approval_ids")
    if entry.data["stage"] == "production":
        check_promotion(conn, _model_row(conn, model), entry.data)
    _stage(conn, entry, entry.data["stage"])


def project_retirement(conn: Connection, entry: SealedEntry) -> None:
    _stage(conn, entry, "retired")


def project_review(conn: Connection, entry: SealedEntry) -> None:
    if _missing(conn, t.decisions, t.decisions.c.decision_id, [entry.data["decision_id"]]):
        raise _refuse(NotFoundError, entry, f"decision {entry.data['decision_id']!r} is not recorded", "decision_id")
    appeal_id = entry.data.get("appeal_id")
    if appeal_id is not None:
        appealed = conn.execute(select(t.appeals.c.decision_id).where(t.appeals.c.appeal_id == appeal_id)).first()
        if appealed is None:
            raise _refuse(NotFoundError, entry, f"appeal {appeal_id!r} is not recorded", "appeal_id")
        if appealed.decision_id != entry.data["decision_id"]:
            message = f"appeal {appeal_id!r} is about decision {appealed.decision_id!r}, not this one"
            raise _refuse(InvalidInputError, entry, message, "appeal_id")
    conn.execute(
        insert(t.reviews).values(seq=entry.seq, decision_id=entry.data["decision_id"], outcome=entry.data["outcome"])
    )


def project_appeal(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if _missing(conn, t.decisions, t.decisions.c.decision_id, [data["decision_id"]]):
        raise _refuse(NotFoundError, entry, f"decision {data['decision_id']!r} is not recorded", "decision_id")
    if not _missing(conn, t.appeals, t.appeals.c.appeal_id, [data["appeal_id"]]):
        raise _refuse(ConflictError, entry, f"appeal {data['appeal_id']!r} is already recorded", "appeal_id")
    conn.execute(
        insert(t.appeals).values(
            appeal_id=data["appeal_id"], seq=entry.seq, decision_id=data["decision_id"], ts=entry.ts
        )
    )


def project_erasure(conn: Connection, entry: SealedEntry) -> None:
    subject = entry.data["subject_ref"]
    if not _missing(conn, t.erasures, t.erasures.c.subject_ref, [subject]):
        raise ConflictError(f"subject {subject!r} was already erased")
    conn.execute(insert(t.erasures).values(subject_ref=subject, seq=entry.seq, ts=entry.ts))
    destroy_subject_key(conn, subject, entry.ts)  # crypto-shredding, in the entry's own transaction


def project_decisions(conn: Connection, batch: Sequence[SealedEntry]) -> None:
    """Bulk path: duplicates, production state and lineage facts checked for the whole run."""
    ids = [e.data["decision_id"] for e in batch]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(
            "a decision_id appears twice in the batch",
            [{"loc": ["data", "decision_id"], "msg": "duplicate in batch", "type": "lineage"}],
        )
    existing = set(ids) - set(_missing(conn, t.decisions, t.decisions.c.decision_id, ids))
    if existing:
        raise ConflictError(f"decisions already recorded: {sorted(existing)[:5]}")
    subjects = sorted({e.data["subject_ref"] for e in batch})
    erased = set(subjects) - set(_missing(conn, t.erasures, t.erasures.c.subject_ref, subjects))
    if erased:  # an erased subject is never given new records
        raise ConflictError(f"subjects {sorted(erased)[:5]} were erased; no new decisions may name them")
    models: dict[tuple[str, str], Any] = {}
    rows: list[tuple[Any, ...]] = []
    for entry in batch:
        data = entry.data
        key = (data["model"]["name"], data["model"]["version"])
        if key not in models:
            models[key] = _decision_model(conn, key)
        model, dataset_ids = models[key]
        _check_decision_lineage(entry, model, dataset_ids)
        output = data["output"]
        rows.append(  # in the column order of t.decisions
            (data["decision_id"], entry.seq, *key, data["subject_ref"], output["decision"], output["adverse"], entry.ts)
        )
    bulk_insert(conn, t.decisions, rows)


def _decision_model(conn: Connection, key: tuple[str, str]) -> tuple[Any, list[str]]:
    model = _model_row(conn, {"name": key[0], "version": key[1]})
    if model.stage != "production":
        raise ConflictError(f"model {key[0]}@{key[1]} is not in production (stage: {model.stage})")
    dataset_ids = [
        row[0] for row in conn.execute(select(t.run_inputs.c.dataset_id).where(t.run_inputs.c.run_id == model.run_id))
    ]
    return model, sorted(dataset_ids)


def _check_decision_lineage(entry: SealedEntry, model: Any, dataset_ids: list[str]) -> None:
    data = entry.data
    facts = {
        "model_artifact_sha256": (data["model_artifact_sha256"], model.artifact_sha256),
        "training_run_id": (data["training_run_id"], model.run_id),
        "promotion_seq": (data["promotion_seq"], model.stage_seq),
        "dataset_ids": (sorted(data["dataset_ids"]), dataset_ids),
    }
    for field, (claimed, actual) in facts.items():
        if claimed != actual:
            raise InvalidInputError(
                f"decision {data['decision_id']}: {field} is {claimed!r} but the log says {actual!r}",
                [{"loc": ["data", field], "msg": f"does not match the lineage ({actual!r})", "type": "lineage"}],
            )


def project_decision(conn: Connection, entry: SealedEntry) -> None:
    """One decision (a batch of decisions is projected by `project_decisions` at once)."""
    project_decisions(conn, [entry])
