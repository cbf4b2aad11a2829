"""Published policies and recorded evaluations: what the policy engine and the reports ask of the
`policies` and `evaluations` projections.

Why here: the tables belong to the ledger (the projector writes them in the entry's transaction),
so the questions asked of them live next to them; `policies` and `reports` call these functions
and never build SQL. Every answer names the entry it comes from (`seq`), so the caller can read
or cite that entry. `as_of` (a log size) ignores rows whose entry is at or beyond it, so a report
reads one log state while the log grows; None reads everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from ledger.errors import CorruptLedgerError
from ledger.lineage import tables as t
from ledger.storage.db import before_log_size
from ledger.storage.store import fetch_entry_data

__all__ = [
    "EvaluationPage",
    "PublishedPolicy",
    "RecordedEvaluation",
    "evaluation_seqs_of_artifact",
    "evaluation_seqs_under_policy",
    "evaluations_page",
    "evaluations_under_policy",
    "newest_active_policy",
    "published_policies",
    "published_policy",
    "published_policy_text",
    "recorded_evaluation",
]


@dataclass(frozen=True)
class PublishedPolicy:
    """One `policy.published` entry as the projection records it."""

    sha256: str
    seq: int
    name: str
    version: str
    activate: bool
    approvals_required: int


@dataclass(frozen=True)
class RecordedEvaluation:
    """One `evaluation.recorded` entry as the projection records it (the rule results are in the entry)."""

    evaluation_id: str
    seq: int
    name: str
    version: str
    artifact_sha256: str
    policy_sha256: str
    verdict: str
    ts: str


@dataclass(frozen=True)
class EvaluationPage:
    items: list[dict[str, Any]]  # the projection's columns, newest first
    next_before: int | None  # pass back as `before` for the next page


def _policy(row: Any) -> PublishedPolicy:
    return PublishedPolicy(
        sha256=row.sha256,
        seq=row.seq,
        name=row.name,
        version=row.version,
        activate=bool(row.activate),
        approvals_required=int(row.approvals_required),
    )


def published_policies(conn: Connection, *, as_of: int | None = None) -> list[PublishedPolicy]:
    """Every published policy, oldest first."""
    p = t.policies
    rows = conn.execute(select(p).where(*before_log_size(p.c.seq, as_of)).order_by(p.c.seq)).all()
    return [_policy(row) for row in rows]


def published_policy(conn: Connection, sha256: str, *, as_of: int | None = None) -> PublishedPolicy | None:
    """The policy published with this SHA-256 (its text is in the entry `seq`), or None."""
    p = t.policies
    row = conn.execute(select(p).where(p.c.sha256 == sha256, *before_log_size(p.c.seq, as_of))).first()
    return None if row is None else _policy(row)


def published_policy_text(conn: Connection, policy: PublishedPolicy) -> str:
    """The exact text of a published policy, as its `policy.published` entry holds it."""
    text = fetch_entry_data(conn, policy.seq)["text"]
    if not isinstance(text, str):
        raise CorruptLedgerError(f"entry {policy.seq} (policy.published) holds no policy text")
    return text


def newest_active_policy(conn: Connection, *, as_of: int | None = None) -> PublishedPolicy | None:
    """The policy that gates promotions: the newest one published with `activate`, or None."""
    p = t.policies
    row = conn.execute(
        select(p).where(p.c.activate.is_(True), *before_log_size(p.c.seq, as_of)).order_by(p.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else _policy(row)


def recorded_evaluation(conn: Connection, evaluation_id: str, *, as_of: int | None = None) -> RecordedEvaluation | None:
    """The evaluation recorded with this id (its rule results are in the entry `seq`), or None."""
    e = t.evaluations
    row = conn.execute(select(e).where(e.c.evaluation_id == evaluation_id, *before_log_size(e.c.seq, as_of))).first()
    return None if row is None else RecordedEvaluation(**row._mapping)


def evaluation_seqs_of_artifact(conn: Connection, artifact_sha256: str, *, as_of: int | None = None) -> list[int]:
    """The entries that recorded evaluations of this model artifact, newest first."""
    e = t.evaluations
    query = select(e.c.seq).where(e.c.artifact_sha256 == artifact_sha256, *before_log_size(e.c.seq, as_of))
    return list(conn.execute(query.order_by(e.c.seq.desc())).scalars())


def evaluation_seqs_under_policy(
    conn: Connection, policy_sha256: str, *, as_of: int | None = None, limit: int = 50
) -> list[int]:
    """The newest `limit` evaluations under one policy version (any model), newest first: the
    candidates a dossier compares its model with (challengers on the same policy)."""
    e = t.evaluations
    query = select(e.c.seq).where(e.c.policy_sha256 == policy_sha256, *before_log_size(e.c.seq, as_of))
    return list(conn.execute(query.order_by(e.c.seq.desc()).limit(limit)).scalars())


def evaluations_under_policy(
    conn: Connection, policy_sha256: str, *, limit: int = 20
) -> tuple[int, list[dict[str, Any]]]:
    """How many evaluations ran under a published policy, and the newest `limit` of them (the
    console's policy page). A scan of the evaluations table: one row per gate run, not per decision."""
    e = t.evaluations
    total = conn.execute(select(func.count()).where(e.c.policy_sha256 == policy_sha256)).scalar_one()
    rows = conn.execute(select(e).where(e.c.policy_sha256 == policy_sha256).order_by(e.c.seq.desc()).limit(limit)).all()
    return int(total), [dict(row._mapping) for row in rows]


def evaluations_page(
    conn: Connection, *, name: str | None, version: str | None, before: int | None, limit: int
) -> EvaluationPage:
    """Evaluations, newest first, optionally of one model name and version; keyset pagination on
    `seq` (`before` is the previous page's `next_before`)."""
    e = t.evaluations
    query = select(e).order_by(e.c.seq.desc()).limit(limit + 1)
    if name is not None:
        query = query.where(e.c.name == name)
    if version is not None:
        query = query.where(e.c.version == version)
    if before is not None:
        query = query.where(e.c.seq < before)
    rows = conn.execute(query).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    return EvaluationPage(items, items[-1]["seq"] if len(rows) > limit else None)
