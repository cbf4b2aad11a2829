"""Preparing decision records for the log: lineage facts filled in, personal input sealed,
retries recognised.

A scoring service sends what it knows (the decision, the model name and version, the subject's
pseudonymous reference and, optionally, the input in clear). Before anything is appended:
- the model's artifact hash, training run, datasets and the promotion that put it in production
  are filled in from the projections (the append hook checks them again under the lock);
- the input is sealed under the subject's key (HMAC commitment + AES-GCM), so it never reaches a
  leaf in clear; a new subject's key is written in the append's own transaction, so a refused
  request leaves nothing behind, and the request is one read transaction plus one write;
- a decision id already in the log is a retry: if it names the same model, subject, times and
  output it is reported as a duplicate and skipped (so retries cannot duplicate), otherwise 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from ledger.api import Ledger
from ledger.errors import ConflictError, InvalidInputError, NotFoundError
from ledger.lineage.decision_reads import recorded_decisions
from ledger.lineage.registry_reads import model_version, run_input_ids
from ledger.log.entry import format_ts
from ledger.privacy.sealing import SubjectKeyRaceError, SubjectKeys, seal_input, subject_keys_for

__all__ = ["MAX_BATCH", "PreparedDecisions", "prepare_decisions", "record_decisions"]

MAX_BATCH = 10_000
_SAME_RETRY_FIELDS = ("model", "subject_ref", "ts_start", "ts_end", "output")


@dataclass
class PreparedDecisions:
    items: list[dict[str, Any]] = field(default_factory=list)  # ready for Ledger.append_many
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # {"decision_id", "seq"} of retries
    new_keys: SubjectKeys = field(default_factory=lambda: SubjectKeys({}, {}))  # to store with the batch
    now_ts: str = ""

    def store_keys(self, conn: Connection) -> None:
        """The append's `in_transaction` step: the batch's new subject keys, beside the log."""
        self.new_keys.store_new(conn, self.now_ts)


def _invalid(position: int, message: str, loc: Sequence[str | int] = ()) -> InvalidInputError:
    return InvalidInputError(
        f"decision {position}: {message}", [{"loc": [position, *loc], "msg": message, "type": "decision"}]
    )


def _model_facts(conn: Connection, name: str, version: str) -> dict[str, Any]:
    row = model_version(conn, name, version)
    if row is None:
        raise NotFoundError(f"model {name}@{version} is not registered")
    if row.stage != "production":
        raise ConflictError(f"model {name}@{version} is not in production (stage: {row.stage})")
    datasets = run_input_ids(conn, row.run_id)
    return {
        "model_artifact_sha256": row.artifact_sha256,
        "training_run_id": row.run_id,
        "dataset_ids": sorted(datasets),
        "promotion_seq": row.stage_seq,
    }


def prepare_decisions(ledger: Ledger, requests: Sequence[Any]) -> PreparedDecisions:
    """Turn decision requests into `decision.recorded` items; raises before anything is written."""
    if not requests:
        raise InvalidInputError("no decisions in the request", [{"loc": [], "msg": "empty", "type": "decision"}])
    if len(requests) > MAX_BATCH:
        raise InvalidInputError(
            f"at most {MAX_BATCH} decisions per request, got {len(requests)}",
            [{"loc": [], "msg": "too many", "type": "decision"}],
        )
    drafts: list[tuple[dict[str, Any], Any, str | None]] = []
    for position, request in enumerate(requests):
        if not isinstance(request, dict):
            raise _invalid(position, "each decision must be a JSON object")
        data = dict(request)
        raw_input = data.pop("input", None)
        schema_version = data.pop("input_schema_version", None)
        if raw_input is not None and not isinstance(schema_version, str):
            raise _invalid(position, "input_schema_version is required with input", ["input_schema_version"])
        for name in ("decision_id", "subject_ref"):
            if not isinstance(data.get(name), str):
                raise _invalid(position, f"{name} is required", [name])
        model = data.get("model")
        if not isinstance(model, dict) or not all(isinstance(model.get(k), str) for k in ("name", "version")):
            raise _invalid(position, "model must be {name, version}", ["model"])
        drafts.append((data, raw_input, schema_version))

    prepared = PreparedDecisions(now_ts=format_ts(datetime.now(UTC)))
    with ledger.engine.connect() as conn, conn.begin():  # reads only: the writes go with the append
        existing = recorded_decisions(conn, [d[0]["decision_id"] for d in drafts])
        fresh = []
        for data, raw_input, schema_version in drafts:
            previous = existing.get(data["decision_id"])
            if previous is None:
                fresh.append((data, raw_input, schema_version))
                continue
            seq, recorded = previous
            if any(recorded.get(name) != data.get(name) for name in _SAME_RETRY_FIELDS):
                raise ConflictError(
                    f"decision {data['decision_id']} is already recorded (entry {seq}) with different content"
                )
            prepared.duplicates.append({"decision_id": data["decision_id"], "seq": seq})
        prepared.new_keys = subject_keys_for(conn, [d[0]["subject_ref"] for d in fresh if d[1] is not None])
        facts: dict[tuple[str, str], dict[str, Any]] = {}
        for data, raw_input, schema_version in fresh:
            model_key = (data["model"]["name"], data["model"]["version"])
            if model_key not in facts:
                facts[model_key] = _model_facts(conn, *model_key)
            for name, value in facts[model_key].items():
                data.setdefault(name, value)
            if raw_input is not None:
                key = prepared.new_keys.keys[data["subject_ref"]]
                data["input"] = seal_input(key, data["decision_id"], raw_input, schema_version=str(schema_version))
            prepared.items.append({"kind": "decision.recorded", "data": data})
    return prepared


def record_decisions(ledger: Ledger, requests: Sequence[Any], *, actor: Any) -> dict[str, Any]:
    """Prepare and append in one batch (one transaction); returns receipts and skipped retries.

    If another writer gave one of the batch's new subjects a key meanwhile, the batch is prepared
    again (once), now under that key.
    """
    for attempt in range(2):
        prepared = prepare_decisions(ledger, requests)
        try:
            receipts = (
                ledger.append_many(prepared.items, actor=actor, in_transaction=prepared.store_keys)
                if prepared.items
                else []
            )
            break
        except SubjectKeyRaceError:
            if attempt:
                raise
    return {
        "recorded": [
            {"decision_id": item["data"]["decision_id"], "seq": r.seq, "leaf_hash": r.leaf_hash.hex(), "ts": r.ts}
            for item, r in zip(prepared.items, receipts, strict=True)
        ],
        "duplicates": prepared.duplicates,
    }
