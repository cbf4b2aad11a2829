"""Projection tables: the current state of the lineage, derived from the log.

Every row here is written by `ledger.lineage.projector` in the same transaction as the entry it
comes from, and `govledger rebuild` can recreate all of them from the log alone; they hold
nothing the log does not. Each row keeps the sequence number of its entry so any answer can be
proven with an inclusion proof.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from ledger.access.tables import api_keys
from ledger.storage.tables import SEQ, metadata

__all__ = [
    "PROJECTION_TABLES",
    "appeals",
    "approvals",
    "dataset_parents",
    "datasets",
    "decisions",
    "erasures",
    "evaluations",
    "models",
    "policies",
    "promotion_refusals",
    "reports",
    "reviews",
    "run_inputs",
    "runs",
    "stage_changes",
]

ID = String(200)

datasets = Table(
    "lineage_datasets",
    metadata,
    Column("dataset_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("licence", String(200), nullable=True),
    Column("sensitive_attributes", Text, nullable=False),  # JSON list
)

dataset_parents = Table(
    "lineage_dataset_parents",
    metadata,
    Column("dataset_id", ID, primary_key=True),
    Column("parent_id", ID, primary_key=True, index=True),
)

runs = Table(
    "lineage_runs",
    metadata,
    Column("run_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("actor_id", String(200), nullable=False),
)

run_inputs = Table(
    "lineage_run_inputs",
    metadata,
    Column("run_id", ID, primary_key=True),
    Column("dataset_id", ID, primary_key=True, index=True),
)

models = Table(
    "lineage_models",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("version", String(60), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("run_id", ID, nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("stage_seq", BigInteger, nullable=False),
)

stage_changes = Table(
    "lineage_stage_changes",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("ts", String(32), nullable=False),
    Index("ix_lineage_stage_changes_model", "name", "version"),
)

promotion_refusals = Table(
    "lineage_promotion_refusals",  # promotion.refused: the attempts the gate refused (the rest are stage_changes)
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("ts", String(32), nullable=False),
    Index("ix_lineage_promotion_refusals_model", "name", "version"),
)

approvals = Table(
    "lineage_approvals",
    metadata,
    Column("approval_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("decision", String(10), nullable=False),
    Column("actor_id", String(200), nullable=False),
    Column("evaluation_id", ID, nullable=True),
    Index("ix_lineage_approvals_model", "name", "version"),
)

decisions = Table(
    "lineage_decisions",
    metadata,
    Column("decision_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("subject_ref", ID, nullable=False, index=True),
    Column("outcome", String(200), nullable=False),
    Column("adverse", Boolean, nullable=False),
    Column("ts", String(32), nullable=False, index=True),
    Index("ix_lineage_decisions_model", "name", "version", "seq"),  # newest-first caps read no more
)

reviews = Table(
    "lineage_reviews",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("decision_id", ID, nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
)

appeals = Table(
    "lineage_appeals",
    metadata,
    Column("appeal_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("decision_id", ID, nullable=False, index=True),
    Column("ts", String(32), nullable=False),
)

erasures = Table(
    "lineage_erasures",
    metadata,
    Column("subject_ref", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("ts", String(32), nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("activate", Boolean, nullable=False),
    Column("approvals_required", BigInteger, nullable=False),
    Index("ix_policies_name_version", "name", "version", unique=True),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("evaluation_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("version", String(60), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("policy_sha256", String(64), nullable=False),
    Column("verdict", String(30), nullable=False),
    Column("ts", String(32), nullable=False),
    Index("ix_evaluations_artifact_policy", "artifact_sha256", "policy_sha256", "seq"),
    Index("ix_evaluations_model", "name", "version", "seq"),
)

reports = Table(
    "reports",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("pdf_sha256", String(64), nullable=False, unique=True),
    Column("html_sha256", String(64), nullable=False),
    Column("report_kind", String(20), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("ts", String(32), nullable=False),
)

PROJECTION_TABLES = (
    reports,
    policies,
    evaluations,
    datasets,
    dataset_parents,
    runs,
    run_inputs,
    models,
    stage_changes,
    promotion_refusals,
    approvals,
    decisions,
    reviews,
    appeals,
    erasures,
    api_keys,  # a projection of access.key_created / access.key_revoked
)
